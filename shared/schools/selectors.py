"""Reads on schools."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet
from django_tenants.utils import get_public_schema_name

from shared.schools.models import ROUTING, Domain, School

# The School fields kept for routing: every concrete field (the site reads status, migration state,
# name, schema and id; the rest costs nothing more).
_SCHOOL_FIELDS = tuple(field.attname for field in School._meta.concrete_fields)


def site_url(host: str, path: str = "/") -> str:
    """An absolute URL on one of the platform's hosts, with the configured scheme and port."""
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return f"{settings.SITE_SCHEME}://{host}{port}{path}"


def school_hostname(*, subdomain: str) -> str:
    return f"{subdomain}.{settings.BASE_DOMAIN}"


def school_primary_url(*, school: School, path: str = "/") -> str:
    return site_url(school.get_primary_domain().domain, path)


def school_list() -> QuerySet[School]:
    """Every school, with its domains, for listing."""
    return School.objects.prefetch_related("domains").order_by("name")


def school_current() -> School:
    """The school whose schema the connection is in (a request's tenant, or the school named by a
    ``schema_context``, which only knows the schema's name)."""
    from django.db import connection

    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, School):
        return tenant
    return School.objects.get(schema_name=connection.schema_name)


def school_id_for_schema(schema_name: str) -> int | None:
    """The id of the school whose schema is ``schema_name`` (None for a spare or unknown schema)."""
    return School.objects.filter(schema_name=schema_name).values_list("pk", flat=True).first()


def schools_behind(*, fingerprint: str) -> list[tuple[int, str]]:
    """(id, schema name) of every school whose schema is not known to be at migration state
    ``fingerprint``, or whose last migration did not succeed (it may have been for other code: a
    deploy rolled back), in one query on ``public``: no school schema is opened."""
    return list(
        School.objects.filter(~Q(migration_fingerprint=fingerprint) | ~Q(migration_state=School.MigrationState.OK))
        .filter(schema_dropped_at__isnull=True).exclude(schema_name=get_public_schema_name())
        .order_by("id").values_list("id", "schema_name")
    )


def schools_migration_failed() -> QuerySet[School]:
    """Schools whose last migration failed and was rolled back: their sites show the maintenance page."""
    return School.objects.filter(migration_state=School.MigrationState.FAILED, schema_dropped_at__isnull=True)


def live_school_ids() -> list[int]:
    """Every school whose schema has not been dropped (retention still has work in it)."""
    return list(School.objects.filter(schema_dropped_at__isnull=True).order_by("pk").values_list("pk", flat=True))


def open_schools() -> QuerySet[School]:
    """Schools whose site is open (active, schema in place), by id."""
    return School.objects.filter(schema_dropped_at=None, status=School.Status.ACTIVE).order_by("pk")


def active_school_schemas() -> list[str]:
    """The schema of every active school (the nightly jobs that enter each one)."""
    return list(School.objects.filter(status=School.Status.ACTIVE).values_list("schema_name", flat=True))


def live_school_schemas() -> list[str]:
    """The schema of every school not yet dropped by retention, by school id."""
    return list(School.objects.filter(schema_dropped_at__isnull=True).exclude(schema_name=get_public_schema_name())
                .order_by("pk").values_list("schema_name", flat=True))


def school_for_host(hostname: str) -> School | None:
    """The school whose site ``hostname`` is (already lower-cased), or None: from this process's
    routing cache (shared.process_cache; invalidated by every write to a school or a domain), else
    one query. Each call returns a School of its own."""
    values = ROUTING.get(hostname, lambda: _school_values(hostname))
    if values is None:
        return None
    return School.from_db("default", _SCHOOL_FIELDS, values)


def _school_values(hostname: str) -> tuple | None:
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    if domain is None:
        return None
    return tuple(getattr(domain.tenant, name) for name in _SCHOOL_FIELDS)
