"""django-tenants' backend, plus a bound on how many schools one connection serves, and no JIT.

A PostgreSQL backend keeps catalog entries (relations, columns, indexes, functions) for every
schema whose tables it has touched (0.33 MB per school for a pupil list and a pupil's page, more for
a connection that touches more of a school's tables: README, "Benchmark: fleet") and frees them only
when the connection closes. ``CONN_MAX_AGE`` bounds a connection by time, but a busy connection touches
hundreds of schools within a minute. So each connection counts the distinct school schemas it has
set as its ``search_path``, and once it has served ``DB_CONN_MAX_SCHOOLS`` of them it is closed at
the next point where Django checks for obsolete connections: the end (or start) of a web request,
and before and after each dramatiq message (``django_dramatiq``'s ``DbConnectionsMiddleware``).
The next query opens a fresh backend with an empty cache.
"""

from __future__ import annotations

import contextlib

import structlog
from django.conf import settings
from django_tenants.postgresql_backend import base
from django_tenants.utils import get_public_schema_name

log = structlog.get_logger("db")


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        # The school schemas the current backend has had as its search_path.
        self.schools_served: set[str] = set()
        super().__init__(*args, **kwargs)

    def connect(self):
        super().connect()
        self.schools_served = set()  # a new backend: an empty catalog cache
        # No JIT compilation: the product's statements are short, and when a school's tables have no
        # statistics yet (a fresh import) the planner prices the measures' per-pupil lookups above
        # jit_above_cost, where compiling costs more than the statement (150 ms against 30 ms at
        # 1,500 pupils). Once per connection, not per statement.
        with self.connection.cursor() as cursor:
            cursor.execute("SET jit = off")

    def _handle_search_path(self, cursor=None):
        super()._handle_search_path(cursor)
        if self.search_path_set_schemas is not None and self.schema_name != get_public_schema_name():
            self.schools_served.add(self.schema_name)

    def _close(self):
        if self.connection is not None and self.schools_served and settings.DB_POOL_MODE == "session":
            # Behind PgBouncer a closed connection only goes back to its pool, catalog cache and
            # all, for the next client. A server connection released inside a transaction is one
            # PgBouncer cannot reuse, so it closes it: the bounds above then hold for the backend.
            # (Connections that never left `public` are pooled as usual.)
            with contextlib.suppress(Exception), self.connection.cursor() as cursor:
                cursor.execute("BEGIN")
        return super()._close()

    def schools_bound_reached(self) -> bool:
        limit = getattr(settings, "DB_CONN_MAX_SCHOOLS", 0)
        return bool(limit) and len(self.schools_served) >= limit

    def close_if_unusable_or_obsolete(self):
        if self.connection is not None and self.schools_bound_reached():
            log.info("db.connection_recycled", schools_served=len(self.schools_served))
            self.close()
            return
        super().close_if_unusable_or_obsolete()
