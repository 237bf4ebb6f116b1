"""One PostgreSQL advisory lock helper for the jobs that must not overlap (pool top-up, visit
flush, retention runs). Session-level, so it spans the job's own transactions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection

# Lock keys: one place, so that two jobs never share one by accident.
POOL_TOP_UP = 0x5C400001
VISITS_FLUSH = 0x5C400002
RETENTION_RUN = 0x5C4003  # paired with a school id, or -1 for the public run


@contextlib.contextmanager
def advisory_lock(*keys: int) -> Iterator[bool]:
    """Try to take the lock named by one or two integer keys; yields whether it was taken, and
    releases it on the way out (also on error)."""
    placeholders = ", ".join(["%s"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_try_advisory_lock({placeholders})", list(keys))
        (locked,) = cursor.fetchone()
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT pg_advisory_unlock({placeholders})", list(keys))
