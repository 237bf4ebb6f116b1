"""School backups that can be put beyond use (in ``public``), by the crypto-shredding of envelope
encryption (as in Tink and the cloud KMSs): each school's data key, wrapped by the master key from the
environment (``keys``), and the encrypted backup file format (``crypto``). Destroying a school's data
key when retention drops its schema makes every backup of that school unreadable, the vendor's own
copies included, without touching the files. Writing a backup and restoring one enter the school's
schema, so they are ``orchestration.backup`` and ``orchestration.restore``."""
