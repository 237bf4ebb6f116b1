"""``GET /health/`` on the vendor's public host: is this server fit to serve? For load balancers.

django-health-check's view runs the checks and answers 200 listing them, or 503 naming the one that
failed (a load balancer reads 503 as "take me out of rotation"; the library's own 500 reads as a
bug). HTML by default (platform/templates/health.html: no inline style, under the CSP), JSON for
``Accept: application/json``, plain text for ``text/plain``. No sign-in, no CSRF (a GET), never
cached (the library sends ``no-store``), and kept out of the visit log (config.middleware): a
probe every few seconds is no visit. The checks are the services a request needs:

- the database answers (the library's ``Database``);
- Redis, as the cache (the library's ``Cache``) and as the broker and scheduler's ``REDIS_URL``;
- the public schema has no unapplied migration (what ``migrate --check`` checks);
- the pool of spare school schemas is not empty, or signing a school up would have to migrate a
  schema while the operator waits (counted here with one query: the pool's own module is not
  imported, so this check depends on the table only).

Names in the answer are fixed words, never hosts or ports: the public host is on the internet.
"""

from __future__ import annotations

import dataclasses

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import get_public_schema_name, schema_context
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView
from redis.asyncio import Redis as AsyncRedis

from shared.schools.models import SpareSchema

# A Redis that does not answer within this is as good as down to a request waiting on it.
REDIS_TIMEOUT_SECONDS = 2


def _broker_redis() -> AsyncRedis:
    # Read at each probe, not at import: REDIS_URL is a setting like any other.
    return AsyncRedis.from_url(settings.REDIS_URL, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                               socket_timeout=REDIS_TIMEOUT_SECONDS)


@dataclasses.dataclass(repr=False)
class BrokerRedis(Redis):
    """The Redis of ``REDIS_URL`` (the dramatiq broker, the scheduler's lock) answers a PING."""

    client_factory: object = dataclasses.field(default=_broker_redis, repr=False)

    def __repr__(self) -> str:
        return "Redis"


@dataclasses.dataclass
class Migrations(HealthCheck):
    """The public schema has every migration of the code applied."""

    def __repr__(self) -> str:
        return "Migrations"

    async def run(self) -> None:
        # On the request's own connection (thread-sensitive), not on a connection of a pool thread.
        unapplied = await sync_to_async(self._unapplied, thread_sensitive=True)()
        if unapplied:
            raise ServiceUnavailable(f"{unapplied} unapplied migration(s) in the public schema")

    @staticmethod
    def _unapplied() -> int:
        with schema_context(get_public_schema_name()):
            executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
            return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


@dataclasses.dataclass
class SparePool(HealthCheck):
    """At least one spare school schema waits to be claimed."""

    def __repr__(self) -> str:
        return "Spare pool"

    async def run(self) -> None:
        spares = await sync_to_async(self._spares, thread_sensitive=True)()
        if spares == 0:
            raise ServiceUnavailable("no spare school schema: sign-ups would wait for a migration")

    @staticmethod
    def _spares() -> int:
        with schema_context(get_public_schema_name()):
            return SpareSchema.objects.count()


@dataclasses.dataclass
class NamedDatabase(Database):
    def __repr__(self) -> str:
        return "Database"


@dataclasses.dataclass
class NamedCache(Cache):
    def __repr__(self) -> str:
        return "Cache"


class HealthView(HealthCheckView):
    template_name = "health.html"
    checks = (NamedDatabase, NamedCache, BrokerRedis, Migrations, SparePool)

    async def get(self, request, *args, **kwargs):
        response = await super().get(request, *args, **kwargs)
        if response.status_code == 500 and any(result.error for result in self.results):
            response.status_code = 503
        return response
