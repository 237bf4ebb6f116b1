"""Marketing and business-development records: prospects who are not (yet) clients, their last
interaction, and their objection to direct marketing, after which they are never contacted again."""
