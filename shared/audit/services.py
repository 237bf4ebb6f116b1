"""Writes of technical information: the change log, the visit log and its monthly partitions.

A request never writes a visit row itself. The middleware appends the visit to a Redis list (one
RPUSH); the ``visits_flush`` actor moves the list into PostgreSQL in batches with COPY, and from
the same batch keeps each school's "last used" date current (through the clients app's hook). So a page pays microseconds, not a
database round trip, and the contract is written at most once per school per flush.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import ipaddress
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import psycopg2
import structlog
from django.db import DataError, IntegrityError, connection, transaction
from django_tenants.utils import get_public_schema_name
from psycopg2 import sql

from shared import clock, locks
from shared.audit.models import AutomatedRun, ChangeLogEntry
from shared.changes import Actor
from shared.deadletter import batch_land, buffer_key, buffer_take_done, deadletter_purge, text_clean
from shared.locks import advisory_lock
from shared.pg_tools import execute, sql_text
from shared.redis_client import redis_client

log = structlog.get_logger(__name__)

VISIT_TABLE = "technical_visit"
_VISIT_COLUMNS = ("occurred_at", "host", "path", "method", "status", "ip", "user_id", "schema_name")


# --- The change log -----------------------------------------------------------------------------


def change_log_record(*, actor: Actor, instance, action: str, fields: Iterable[str] = ()) -> ChangeLogEntry:
    """Record that ``actor`` added, edited or deleted ``instance``, naming the fields touched.
    Only names are kept: never a value."""
    meta = instance._meta
    known = {field.name for field in meta.get_fields()}
    names = sorted(set(fields))
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"{meta.label} has no field {', '.join(unknown)}")
    return ChangeLogEntry.objects.create(
        actor_kind=actor.kind,
        actor_id=actor.user_id,
        actor_schema=actor.schema,
        object_schema=connection.schema_name,
        object_type=meta.label_lower,
        object_id=str(instance.pk),
        action=action,
        fields=names,
    )


def change_log_record_many(*, actor: Actor, object_type: str, changes: Iterable[tuple[object, str, Iterable[str]]]) -> None:
    """Record many changes of one kind of object at once: ``(object id, action, field names)``."""
    ChangeLogEntry.objects.bulk_create(
        ChangeLogEntry(actor_kind=actor.kind, actor_id=actor.user_id, actor_schema=actor.schema,
                       object_schema=connection.schema_name, object_type=object_type, object_id=str(object_id),
                       action=action, fields=sorted(fields))
        for object_id, action, fields in changes
    )


# --- The visit log ------------------------------------------------------------------------------


VISIT_BUFFER = "visits"
# The visit table's column lengths.
_HOST_MAX, _PATH_MAX, _METHOD_MAX, _SCHEMA_MAX = 253, 2000, 10, 63


def visit_buffer_key() -> str:
    return buffer_key(VISIT_BUFFER)


def visit_push(*, occurred_at: dt.datetime, host: str, path: str, method: str, status: int | None,
               ip: str | None, user_id: int | None, schema_name: str) -> None:
    """Queue one visit for the next flush (one RPUSH), cleaned first (``visit_clean``)."""
    row = visit_clean(occurred_at=occurred_at, host=host, path=path, method=method, status=status, ip=ip,
                      user_id=user_id, schema_name=schema_name)
    redis_client().rpush(visit_buffer_key(), json.dumps(row, separators=(",", ":")))


def visit_clean(*, occurred_at: dt.datetime, host: str, path: str, method: str, status: int | None,
                ip: str | None, user_id: int | None, schema_name: str) -> list:
    """A visit as a row the visit table accepts whatever the request held: text without NUL,
    control characters or lone surrogates and within its column's length, an IP address or none,
    a status and a user id in range or none."""
    return [
        occurred_at.isoformat(),
        text_clean(host, limit=_HOST_MAX),
        text_clean(path, limit=_PATH_MAX),
        text_clean(method, limit=_METHOD_MAX),
        status if isinstance(status, int) and 100 <= status <= 999 else None,
        _ip_or_none(ip),
        user_id if isinstance(user_id, int) and 0 < user_id < 2**63 else None,
        text_clean(schema_name, limit=_SCHEMA_MAX),
    ]


def _ip_or_none(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def visit_partition_name(month: dt.date) -> str:
    return f"{VISIT_TABLE}_y{month.year:04d}m{month.month:02d}"


_known_partitions: set[str] = set()


def visit_partitions_ensure(*, months_ahead: int = 2, as_of: dt.date | None = None,
                            months: Iterable[dt.date] = ()) -> list[str]:
    """Create the monthly partitions of the visit log for this month, the next ``months_ahead``,
    and any month in ``months``, where missing. Returns the names it created."""
    start = _month_start(as_of or clock.today())
    wanted = {clock.add_months(start, n) for n in range(months_ahead + 1)} | {_month_start(m) for m in months}
    created = []
    with connection.cursor() as cursor:
        for month in sorted(wanted):
            name = visit_partition_name(month)
            if name in _known_partitions:
                continue
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"public.{name}"])
            if not cursor.fetchone()[0]:
                upper = clock.add_months(month, 1)
                # DDL takes no parameters: the bounds are literals.
                execute(cursor, sql.SQL("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
                    sql.Identifier("public", name), sql.Identifier("public", VISIT_TABLE),
                    sql.Literal(f"{month.isoformat()} 00:00+00"), sql.Literal(f"{upper.isoformat()} 00:00+00")))
                created.append(name)
            # Remembered only once committed: a rolled-back creation must be retried.
            transaction.on_commit(lambda name=name: _known_partitions.add(name))
    if created:
        log.info("visits.partitions_created", partitions=created)
    return created


def visits_flush(*, batch_size: int = 5000, on_batch: Callable[[dict[str, dt.date]], object] | None = None) -> int:
    """Move buffered visits into the partitioned table, batch by batch, calling ``on_batch`` in each
    batch's transaction with the last day each school schema was used by a signed-in user (the
    clients app brings contracts' "last used" dates forward with it: ``shared.clients.last_use``). At-least-once: a crash between the commit and trimming the
    buffer can store a batch twice, never lose one. A visit that the table refuses is set aside on
    the buffer's dead-letter list (``shared.deadletter``) and the rest of its batch lands. Returns
    how many visits it stored."""
    client = redis_client()
    buffer = visit_buffer_key()
    stored = 0
    connection.set_schema_to_public()
    with advisory_lock(locks.VISITS_FLUSH) as locked:
        if not locked:
            return 0
        deadletter_purge(VISIT_BUFFER)
        while raw_rows := client.lrange(buffer, 0, batch_size - 1):
            rows, bad = [], []
            for position, raw in enumerate(raw_rows):
                try:
                    rows.append((position, _visit_row_parse(raw)))
                except (ValueError, TypeError) as error:
                    bad.append((position, error))
            with transaction.atomic():
                landed, refused = batch_land(rows, lambda items: _visits_land(items, on_batch),
                                             item_errors=_VISIT_ITEM_ERRORS)
            bad += [(position, error) for (position, _), error in refused]
            buffer_take_done(buffer=VISIT_BUFFER, taken=len(raw_rows),
                             bad=[(raw_rows[position], error) for position, error in sorted(bad, key=lambda b: b[0])])
            stored += landed
    if stored:
        log.info("visits.flushed", visits=stored)
    return stored


# Errors that one visit's values cause (as opposed to the database being unavailable, which must
# fail the whole flush and leave the buffer for the next run).
_VISIT_ITEM_ERRORS = (ValueError, TypeError, DataError, IntegrityError, psycopg2.DataError, psycopg2.IntegrityError)


def _visit_row_parse(raw: bytes) -> list:
    row = json.loads(raw)
    if not isinstance(row, list) or len(row) != len(_VISIT_COLUMNS) or not isinstance(row[0], str):
        raise ValueError("a visit has eight fields, its time first")
    return row


def _visits_land(items: Sequence[tuple[int, list]], on_batch) -> None:
    """COPY one batch of visits and update what is kept from them: the partitions' row counts, and
    (through ``on_batch``) the contracts' last-used dates."""
    public = get_public_schema_name()
    rows = [row for _, row in items]
    last_used: dict[str, dt.date] = {}
    per_partition: Counter[str] = Counter()
    months: set[dt.date] = set()
    for occurred_at, _, _, _, _, _, user_id, schema_name in rows:
        # Pushed in UTC, so its first ten characters are its day (a time that is not lands in no
        # partition, and COPY refuses it like any other bad value).
        day = dt.date.fromisoformat(occurred_at[:10])
        month = day.replace(day=1)
        months.add(month)
        per_partition[visit_partition_name(month)] += 1
        if user_id is not None and schema_name != public:
            last_used[schema_name] = max(day, last_used.get(schema_name, day))
    visit_partitions_ensure(months_ahead=0, months=months)
    _copy_visits(rows)
    visit_partition_rows_add(per_partition)
    if on_batch is not None:
        on_batch(last_used)


def visit_partition_rows_add(counts: dict[str, int]) -> None:
    """Add to the per-partition row counts (one upsert per month)."""
    from shared.audit.models import VisitPartitionRows

    upsert = sql.SQL("INSERT INTO {table} (partition, rows) VALUES (%s, %s) "
                     "ON CONFLICT (partition) DO UPDATE SET rows = EXCLUDED.rows + {table}.rows").format(
        table=sql.Identifier(VisitPartitionRows._meta.db_table))
    with connection.cursor() as cursor:
        for partition, added in counts.items():
            execute(cursor, upsert, [partition, added])


def _copy_visits(rows: list[list]) -> None:
    data = io.StringIO()
    writer = csv.writer(data)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    data.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(sql_text(sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '')").format(
            sql.Identifier("public", VISIT_TABLE), sql.SQL(", ").join(map(sql.Identifier, _VISIT_COLUMNS)))), data)


def account_activity_anonymise(*, schema_name: str, user_id: int) -> int:
    """An erased account's visits and changes keep their rows (security, 365 days) without the
    account: no user id, no IP address. Returns the rows anonymised."""
    from shared.audit.models import Visit

    visits = Visit.objects.filter(schema_name=schema_name, user_id=user_id).update(user_id=None, ip=None)
    changes = ChangeLogEntry.objects.filter(actor_schema=schema_name, actor_id=user_id).update(actor_id=None)
    return visits + changes


# --- Automated processes' last runs -----------------------------------------------------------------

def automated_run_record(*, process: str, school_id: int | None = None, schema_name: str | None = None,
                         started_at: dt.datetime, finished_at: dt.datetime, outcome: str) -> None:
    """Keep the last run of ``process`` for one school (``school_id``, or the school whose schema
    is ``schema_name``) or for no school: one upsert (``shared.automation`` calls it)."""
    if school_id is None and schema_name and schema_name != get_public_schema_name():
        from shared.schools.selectors import school_id_for_schema

        school_id = school_id_for_schema(schema_name)
    AutomatedRun.objects.bulk_create(
        [AutomatedRun(process=process, school_id=school_id, started_at=started_at, finished_at=finished_at,
                      outcome=outcome)],
        update_conflicts=True, unique_fields=["process", "school_id"],
        update_fields=["started_at", "finished_at", "outcome"])
