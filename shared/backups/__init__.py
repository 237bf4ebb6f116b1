"""School backups that can be put beyond use (in ``public``): each school's data key, wrapped by
the master key from the environment; the encrypted backup file format; writing a backup from
``pg_dump`` and restoring one with ``pg_restore``; and destroying a school's key when retention
drops its schema, after which none of that school's backups can be read."""
