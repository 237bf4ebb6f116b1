"""Django apps migrated into the public schema: what the vendor controls (schools and their domains,
operators, clients and contracts, billing, marketing, the audit trail, privacy and compliance
registers, support access, backup keys). They never import ``tenants`` or anything above.

Beside them, small core modules every layer uses, importing none of the apps: the clock, dates,
locks, pg_tools, the change log's ``Actor`` (changes), scheduling, the sign-in throttle, progress
output, dead letters, submit-once tokens, request parsing, CSV, stored files, the outgoing-TLS policy.
The scheduler is dramatiq-crontab's (APScheduler's cron triggers sending actors, as a Django command)
rather than periodiq, which has no guard against a second scheduler, or a bare APScheduler, which has
no coordination between processes: it holds a Redis lock, and ``scheduling`` adds a claim per period."""
