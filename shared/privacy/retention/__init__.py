"""The personal-data registry and the retention rules it maps to.

``registry``: every field of every model, classified into a data category with its retention rule
and lawful basis (the privacy notice's table); ``checks`` fails the system check when a field is
unclassified. ``rules``: the pure planner, a function of (records, policy, as-of date) that says what
falls due and when (legal holds and shortenings, which pause or shorten a rule, are written by
``shared.privacy.holds``). The executor that deletes what falls due enters school schemas, so it
is ``orchestration.retention``."""
