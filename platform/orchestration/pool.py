"""Fast school schemas: a recipe replayed into new schemas, and a pool of spares made ahead of time.

- The *template* schema (``school_template``) is migrated to the code's state of the school apps,
  the django-tenants way, once per migration state. That state is named by a fingerprint of the
  school apps' migrations, kept as the schema's comment.
- While the template migrates, every statement it runs is recorded: that is the *recipe*
  (``SchemaRecipe``). Replaying it into an empty schema gives the same tables, indexes,
  constraints and rows (django_migrations, content types, permissions) without loading or
  planning any migration. Unlike django-tenants' ``clone_schema``, whose catalog queries slow down
  with every schema in the database, a replay costs the same at 10 schools as at 10,000.
- A *spare* is a schema made from the recipe under its final, stable name (``school_000042``),
  with a ``SpareSchema`` row naming its fingerprint. A worker keeps ``SCHOOL_POOL_SIZE`` of them.
- Provisioning claims a spare with a single ``DELETE ... RETURNING`` in its own transaction, so a
  failure later in provisioning puts the spare back untouched. With the pool empty it replays the
  recipe (or, with no current recipe, migrates) inside that same transaction.

PostgreSQL DDL is transactional, so every step here either happens whole or not at all.

On a Citus coordinator with schema-based sharding on (ops/scale-out.md), a schema is built as a
plain schema on the coordinator (sharding off for that transaction only) and then distributed,
whole, before the transaction commits (``citus_schema_distribute``). Built directly inside a
distributed schema, a replay breaks (Citus forwards each DDL's raw query string to the worker, and
the one-round-trip script is many commands) and so does Django's migration that widens identity
columns. On one server the check costs nothing: it rides on a query the build makes anyway.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import functools
import hashlib
import re
import uuid
from collections.abc import Callable

import structlog
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from psycopg2 import sql

from shared import locks
from shared.locks import advisory_lock
from shared.pg_tools import execute, sql_text
from shared.schools.models import SchemaRecipe, SpareSchema

log = structlog.get_logger(__name__)

TEMPLATE_SCHEMA = "school_template"
SCHEMA_NAME_FORMAT = "school_{:06d}"
# Statements that belong to the recording session, not to the schema: transaction control.
_SESSION_ONLY = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT|SET search_path)\b", re.I)
_READ_ONLY = re.compile(r"^\s*(SELECT|SHOW)\b", re.I)  # for the portability check only
# Catalog reads as recorded (Django's introspection, a migration looking up its columns): no side
# effects, and each scans every schema's relations, so replaying them would slow every replay down
# as schools are added (0.2 s a replay at 300 schools).
_CATALOG_READ = re.compile(r"^\s*(SHOW\b|SELECT\b(?!.*\b(setval|nextval|set_config)\s*\().*\b(pg_catalog|information_schema)\.)",
                           re.I | re.S)


@functools.cache
def migration_fingerprint() -> str:
    """A short hash of every migration of the school (tenant) apps, as the code defines them."""
    from django.apps import apps

    labels = {config.label for config in apps.get_app_configs() if config.name in settings.TENANT_APPS}
    loader = MigrationLoader(None, ignore_no_migrations=True)
    nodes = sorted(f"{app}.{name}" for app, name in loader.graph.nodes if app in labels)
    return hashlib.sha256("\n".join(nodes).encode()).hexdigest()[:16]


# --- Recording and replaying -----------------------------------------------------------------


def _jsonable(value):
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()  # PostgreSQL casts the literal back to the column's type
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    return value


class _StatementRecorder:
    """A connection execute-wrapper that keeps every statement that shapes the schema."""

    def __init__(self) -> None:
        self.statements: list[list] = []

    def __call__(self, execute, sql, params, many, context):
        if not _SESSION_ONLY.match(sql):
            self.statements.append([sql, _jsonable(params), many])
        return execute(sql, params, many, context)

    def check_portable(self) -> None:
        """A recipe must not name the template: it would write into the template on replay."""
        for statement, params, _ in self.statements:
            if not _READ_ONLY.match(statement) and TEMPLATE_SCHEMA in f"{statement} {params}":
                raise RuntimeError(f"a school migration names the template schema; cannot record: {statement[:200]}")


# A fingerprint's recipe never changes, so a process keeps the scripts it has rendered (not
# misses: another process may record the recipe later).
_scripts: dict[str, str] = {}


def _recipe_script(fingerprint: str) -> str | None:
    """The recipe as one SQL script, parameters bound, so that a replay is one round trip. Reads
    are kept too (a migration's SELECT may have side effects: setval), except catalog reads."""
    if fingerprint not in _scripts:
        recipe = SchemaRecipe.objects.filter(fingerprint=fingerprint).only("statements").first()
        if recipe is None:
            return None
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg2's own cursor, for mogrify
            parts = []
            for sql, params, many in recipe.statements:
                if _CATALOG_READ.match(sql):
                    continue
                for one in (params if many else [params]):
                    parts.append(raw.mogrify(sql, one).decode() if one is not None else sql)
        _scripts[fingerprint] = ";\n".join(parts) + ";"
    return _scripts[fingerprint]


# True when this database is a Citus coordinator creating new schemas as distributed schemas (the
# setting alone is not enough: the library may be loaded in a database without the extension). No
# subquery: measured on one server, this adds nothing to the query it rides on (an EXISTS on
# pg_extension added ~0.4 ms of planning).
_SHARDED = ("current_setting('citus.enable_schema_based_sharding', true) = 'on' "
            "AND to_regproc('pg_catalog.citus_schema_distribute') IS NOT NULL")


def schema_sharding_on() -> bool:
    """Whether new schemas become Citus distributed schemas here (never on one server)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce({_SHARDED}, false)")
        return cursor.fetchone()[0]


def _schema_create(schema_name: str, *, sharded: bool = False) -> None:
    with connection.cursor() as cursor:
        if sharded:
            # Plain until it is whole; distributed by _schema_distribute in this same transaction.
            cursor.execute("SET LOCAL citus.enable_schema_based_sharding = off")
        execute(cursor, sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema_name)))


def _schema_distribute(schema_name: str) -> None:
    """Make a schema built with sharding off a distributed schema (all its tables together on one
    node) before the caller's transaction commits, and turn sharding back on for the rest of it."""
    if not connection.in_atomic_block:
        raise RuntimeError("a school schema is distributed in the transaction that builds it")
    from orchestration.scale_out import schema_local_data_truncate_sql

    with connection.cursor() as cursor:
        # Deferred foreign-key checks of the rows just written must run before the tables move;
        # the rows are copied to the node, and the coordinator's copy left behind is truncated.
        cursor.execute(sql_text(sql.SQL("SET CONSTRAINTS ALL IMMEDIATE; SELECT citus_schema_distribute({}::regnamespace)")
                                .format(sql.Literal(schema_name)))
                       + "; " + schema_local_data_truncate_sql(schema_name)
                       + "; SET LOCAL citus.enable_schema_based_sharding = on")


def _schema_drop(schema_name: str) -> None:
    with connection.cursor() as cursor:
        execute(cursor, sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema_name)))


def _replay(schema_name: str, script: str, *, sharded: bool) -> None:
    _schema_create(schema_name, sharded=sharded)
    # The same search path the recording ran with (school schema first, then public).
    connection.set_schema(schema_name)
    try:
        with connection.cursor() as cursor:
            cursor.execute(script)
    finally:
        connection.set_schema_to_public()
    if sharded:
        _schema_distribute(schema_name)


def _migrate_new_schema(schema_name: str, *, recorder: _StatementRecorder | None = None) -> None:
    """CREATE SCHEMA and run every school migration in it: the django-tenants default way."""
    connection.set_schema_to_public()
    sharded = schema_sharding_on()
    _schema_create(schema_name, sharded=sharded)
    with connection.execute_wrapper(recorder) if recorder else contextlib.nullcontext():
        call_command("migrate_schemas", schema_name=schema_name, tenant=True, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    if sharded:
        _schema_distribute(schema_name)


def _next_schema_name() -> tuple[str, bool]:
    """A new school schema's name, and whether it is to be a Citus distributed schema (asked in
    the same round trip, so one server pays nothing for the question)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT nextval('public.schools_schema_number_seq'), coalesce({_SHARDED}, false)")
        number, sharded = cursor.fetchone()
    return SCHEMA_NAME_FORMAT.format(number), sharded


# --- The template and its recipe --------------------------------------------------------------


def _template_fingerprint() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
            [TEMPLATE_SCHEMA],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def recipe_is_current() -> bool:
    fingerprint = migration_fingerprint()
    return _template_fingerprint() == fingerprint and _recipe_script(fingerprint) is not None


def template_ensure() -> bool:
    """Bring the template schema and its recipe to the code's migration state. Returns whether
    they were rebuilt (migrations ran)."""
    if recipe_is_current():
        return False
    fingerprint = migration_fingerprint()
    recorder = _StatementRecorder()
    with transaction.atomic():
        _schema_drop(TEMPLATE_SCHEMA)
        _migrate_new_schema(TEMPLATE_SCHEMA, recorder=recorder)
        recorder.check_portable()
        with connection.cursor() as cursor:
            execute(cursor, sql.SQL("COMMENT ON SCHEMA {} IS %s").format(sql.Identifier(TEMPLATE_SCHEMA)), [fingerprint])
        SchemaRecipe.objects.update_or_create(fingerprint=fingerprint, defaults={"statements": recorder.statements})
        SchemaRecipe.objects.exclude(fingerprint=fingerprint).delete()
    _scripts.pop(fingerprint, None)
    log.info("pool.template_rebuilt", fingerprint=fingerprint, statements=len(recorder.statements))
    return True


# --- Making and claiming school schemas -------------------------------------------------------


def schema_build() -> str:
    """Make a new school schema now, in the caller's transaction: a replay of the recipe when it
    is current, else a full migration. Used when the pool is empty."""
    schema_name, sharded = _next_schema_name()
    if recipe_is_current():
        _replay(schema_name, _recipe_script(migration_fingerprint()), sharded=sharded)
    else:
        _migrate_new_schema(schema_name)
    return schema_name


def spare_claim() -> str | None:
    """Claim one current spare schema in the caller's transaction (one statement; concurrent
    claims skip each other's rows). Returns its name, or None when the pool is empty."""
    table = sql.Identifier(SpareSchema._meta.db_table)
    with connection.cursor() as cursor:
        execute(cursor, sql.SQL(
            """
            DELETE FROM {table} WHERE id = (
                SELECT id FROM {table} WHERE fingerprint = %s
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
            ) RETURNING schema_name
            """).format(table=table),
            [migration_fingerprint()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def spare_count() -> int:
    return SpareSchema.objects.filter(fingerprint=migration_fingerprint()).count()


def _spare_create(fingerprint: str, script: str) -> str:
    with transaction.atomic():
        schema_name, sharded = _next_schema_name()
        _replay(schema_name, script, sharded=sharded)
        SpareSchema.objects.create(schema_name=schema_name, fingerprint=fingerprint)
    return schema_name


def _stale_spares_discard(fingerprint: str) -> int:
    discarded = 0
    for spare in SpareSchema.objects.exclude(fingerprint=fingerprint):
        with transaction.atomic():
            _schema_drop(spare.schema_name)
            spare.delete()
        discarded += 1
    return discarded


def pool_top_up(*, size: int | None = None, progress: Callable[[int, int], None] | None = None) -> int:
    """Keep ``size`` (default SCHOOL_POOL_SIZE) current spares: rebuild a stale template and
    recipe, drop stale spares, make the missing ones. Idempotent; returns how many spares it made.
    When another process is already topping up, returns 0 at once."""
    size = settings.SCHOOL_POOL_SIZE if size is None else size
    connection.set_schema_to_public()
    with advisory_lock(locks.POOL_TOP_UP) as locked:
        if not locked:
            return 0
        template_ensure()
        fingerprint = migration_fingerprint()
        script = _recipe_script(fingerprint)
        discarded = _stale_spares_discard(fingerprint)
        missing = max(0, size - spare_count())
        for done in range(1, missing + 1):
            _spare_create(fingerprint, script)
            if progress:
                progress(done, missing)
        if missing or discarded:
            log.info("pool.topped_up", made=missing, discarded=discarded, size=size)
        return missing
