"""The pool of spare school schemas that makes signing a school up cost one row claim.

- The *template* schema (``school_template``) is migrated to the code's state of the school apps.
  That state is named by a fingerprint of the school apps' migrations, kept as the schema's comment.
- A *spare* is a clone of the template under its final, stable name (``school_000042``), with a
  ``SpareSchema`` row naming its fingerprint. A worker keeps ``SCHOOL_POOL_SIZE`` of them.
- Provisioning claims a spare with a single ``DELETE ... RETURNING`` inside its own transaction,
  so a failure later in provisioning puts the spare back untouched. With the pool empty it clones
  the template (or, with no current template, migrates) inside that same transaction.

PostgreSQL DDL is transactional, so every step here either happens whole or not at all.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

import structlog
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.clone import CloneSchema

from shared.schools.models import SpareSchema

log = structlog.get_logger(__name__)

TEMPLATE_SCHEMA = "school_template"
SCHEMA_NAME_FORMAT = "school_{:06d}"
# One pool maintainer at a time, across processes (a PostgreSQL advisory lock key).
_POOL_LOCK_KEY = 0x5C400001


@functools.cache
def migration_fingerprint() -> str:
    """A short hash of every migration of the school (tenant) apps, as the code defines them."""
    from django.apps import apps

    labels = {config.label for config in apps.get_app_configs() if config.name in settings.TENANT_APPS}
    loader = MigrationLoader(None, ignore_no_migrations=True)
    nodes = sorted(f"{app}.{name}" for app, name in loader.graph.nodes if app in labels)
    return hashlib.sha256("\n".join(nodes).encode()).hexdigest()[:16]


def _next_schema_name() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('public.schools_schema_number_seq')")
        (number,) = cursor.fetchone()
    return SCHEMA_NAME_FORMAT.format(number)


def _template_fingerprint() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
            [TEMPLATE_SCHEMA],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _migrate_new_schema(schema_name: str) -> None:
    """CREATE SCHEMA and run every school migration in it: the slow, django-tenants default way."""
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema_name}"')
    call_command("migrate_schemas", schema_name=schema_name, tenant=True, interactive=False, verbosity=0)
    connection.set_schema_to_public()


def _clone_template(schema_name: str) -> None:
    CloneSchema().clone_schema(TEMPLATE_SCHEMA, schema_name, "DATA")
    connection.set_schema_to_public()


def template_is_current() -> bool:
    return _template_fingerprint() == migration_fingerprint()


def template_ensure() -> bool:
    """Bring the template schema to the code's migration state. Returns whether it was rebuilt."""
    if template_is_current():
        return False
    fingerprint = migration_fingerprint()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{TEMPLATE_SCHEMA}" CASCADE')
        _migrate_new_schema(TEMPLATE_SCHEMA)
        with connection.cursor() as cursor:
            cursor.execute(f'COMMENT ON SCHEMA "{TEMPLATE_SCHEMA}" IS %s', [fingerprint])
    log.info("pool.template_rebuilt", fingerprint=fingerprint)
    return True


def schema_build() -> str:
    """Make a new school schema now, in the caller's transaction: a clone of the template when it
    is current, else a full migration. Used when the pool is empty."""
    schema_name = _next_schema_name()
    if template_is_current():
        _clone_template(schema_name)
    else:
        _migrate_new_schema(schema_name)
    return schema_name


def spare_claim() -> str | None:
    """Claim one current spare schema in the caller's transaction (one statement; concurrent
    claims skip each other's rows). Returns its name, or None when the pool is empty."""
    table = SpareSchema._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM {table} WHERE id = (
                SELECT id FROM {table} WHERE fingerprint = %s
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
            ) RETURNING schema_name
            """,
            [migration_fingerprint()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def spare_count() -> int:
    return SpareSchema.objects.filter(fingerprint=migration_fingerprint()).count()


def _spare_create(fingerprint: str) -> str:
    with transaction.atomic():
        schema_name = _next_schema_name()
        _clone_template(schema_name)
        SpareSchema.objects.create(schema_name=schema_name, fingerprint=fingerprint)
    return schema_name


def _stale_spares_discard(fingerprint: str) -> int:
    discarded = 0
    for spare in SpareSchema.objects.exclude(fingerprint=fingerprint):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{spare.schema_name}" CASCADE')
            spare.delete()
        discarded += 1
    return discarded


def pool_top_up(*, size: int | None = None, progress: Callable[[int, int], None] | None = None) -> int:
    """Keep ``size`` (default SCHOOL_POOL_SIZE) current spares: rebuild a stale template, drop
    stale spares, clone the missing ones. Idempotent; returns how many spares it made. When another
    process is already topping up, returns 0 at once."""
    size = settings.SCHOOL_POOL_SIZE if size is None else size
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_POOL_LOCK_KEY])
        (locked,) = cursor.fetchone()
    if not locked:
        return 0
    try:
        template_ensure()
        fingerprint = migration_fingerprint()
        discarded = _stale_spares_discard(fingerprint)
        missing = max(0, size - spare_count())
        for done in range(1, missing + 1):
            _spare_create(fingerprint)
            if progress:
                progress(done, missing)
        if missing or discarded:
            log.info("pool.topped_up", made=missing, discarded=discarded, size=size)
        return missing
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_POOL_LOCK_KEY])
