"""The retention executor, across ``public`` and the schools' schemas, in three modules:

- ``collect``: what the database holds as retention units (in ``public`` and in each school's
  schema), and the legal holds and shortenings that bear on them;
- ``delete``: one deleter per unit kind (``DELETERS``), each deleting one unit;
- ``run``: planning what is due, the run that deletes it (one unit per transaction, each with its
  deletion record; safe to kill and rerun; runs never overlap), and the retention calendar shown
  on the console and on each school's site.

The rules themselves (periods, what each unit's period counts from, holds) are pure and live in
``shared.privacy.retention``."""
