"""Work that crosses between the ``public`` schema and the school schemas, in one place.

Everything else stays on its side of the line: ``shared`` apps read and write only ``public`` and
never import ``tenants``; ``tenants`` apps run inside one school's schema. What must do both lives
here, so a reader can see every crossing:

- ``provisioning``: signing a school up (its public rows, its schema, its first admin);
- ``pool``: the spare, already-migrated school schemas that sign-ups claim;
- ``fleet``: migrating every school schema after a release;
- ``retention``: the retention executor: ``collect`` gathers the retention units in ``public`` and
  in each school, ``delete`` holds a deleter per unit kind, ``run`` plans, deletes and records the
  deletions, and reads the retention calendar;
- ``backup``, ``restore``: writing a school's encrypted backup and restoring it, then erasing again
  what the erasure ledger (``erasure_replay``) and retention say has gone since;
- ``school_export``: a school's whole data, returned to it after cancellation;
- ``support``: an operator's reads of a school's data under an approved support grant;
- ``requests``: handing a data subject's request over from the vendor to the school;
- ``scale_out``: the SQL that distributes school schemas on a Citus cluster;
- ``tasks``: the scheduled jobs that enter every school.

Not here, because they no longer cross: the vendor's export of what it holds about a person reads only
``public`` (``shared.privacy.exports.vendor``; an account's visits and changes come from
``shared.audit.selectors``), and the visit-log flush meets the contracts' last use inside ``public``
(``shared.clients.last_use``).

Layers (checked by the import contract in ``pyproject.toml``): the sites (``console``, ``portal``)
call this package; it calls ``tenants`` and ``shared``; nothing below imports it.
"""
