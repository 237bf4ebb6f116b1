"""Privacy in ``public``: the personal-data registry and the retention rules it maps to
(``retention``), data subjects' requests, their ICO deadlines and the erasure ledger (``requests``),
the registry-driven export engine (``exports``), and legal holds and shortenings (``holds``).

Every field of every model is classified into a data category that maps to a retention rule and a
lawful basis (the privacy notice's table); retention, the subject-access export, erasure and the
record of processing all read this one registry, and a system check fails when a model gains a field
nobody classified. The seven rights (access, correction, erasure, restriction, portability,
objection, withdrawal of consent) are request types sharing one set of states and one clock, for the
vendor's requests (here) and each school's (``tenants.rights``)."""
