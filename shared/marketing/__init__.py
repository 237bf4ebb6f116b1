"""Marketing and business-development records: prospects who are not (yet) clients, their last
interaction, their consent to direct marketing (given and withdrawn, with when and how), and their
objection to direct marketing, after which they are never contacted again. Direct marketing by email
goes only to ``selectors.prospects_for_marketing``: consent in force, no objection."""
