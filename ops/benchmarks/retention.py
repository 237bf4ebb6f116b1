"""Retention at fleet scale: a daily run with nothing due, purging visits, dropping schools.

1. A daily run (every school's job and the public one, in this process) over 1,000 schools with
   nothing due.
2. Ten million expired visit rows purged by dropping their monthly partition, against the same
   number deleted with ``DELETE`` from another month's partition (the baseline), in one run.
3. The schemas of 100 cancelled schools dropped by one run, each with its deletion record.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TextIO

from django.db import connection, transaction
from psycopg2 import sql

from orchestration import pool
from orchestration.provisioning import school_provision
from orchestration.retention.delete import DELETERS
from orchestration.retention.run import retention_run
from shared import clock
from shared.audit.services import VISIT_TABLE, visit_partition_name, visit_partition_rows_add, visit_partitions_ensure
from shared.clients.models import Contract
from shared.pg_tools import execute
from shared.privacy.models import DeletionRecord
from shared.progress import Progress
from shared.schools.models import School

TARGET_NOTHING_DUE_SECONDS = 10.0
TARGET_RATIO = 50.0


def add_arguments(parser) -> None:
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--cancelled", type=int, default=100)
    parser.add_argument("--visit-rows", type=int, default=10_000_000)


def _fill_month(month: dt.date, rows: int) -> None:
    """Load a month of visits straight into its partition, keeping its row count as the flush does."""
    visit_partitions_ensure(months_ahead=0, months=[month])
    visit_partition_rows_add({visit_partition_name(month): rows})
    seconds = (clock.add_months(month, 1) - month).days * 86400 - 1
    with connection.cursor() as cursor:
        execute(cursor, sql.SQL(
            "INSERT INTO {} (occurred_at, host, path, method, status, ip, user_id, schema_name) "
            "SELECT %s::timestamptz + make_interval(secs => (g %% %s)), 'bench.localhost', '/pupils/' || (g %% 5000), "
            "'GET', 200, ('10.0.' || (g %% 250) || '.' || (g %% 200))::inet, g %% 900, 'school_000001' "
            "FROM generate_series(1, %s) AS g").format(sql.Identifier("public", VISIT_TABLE)),
            [dt.datetime.combine(month, dt.time(), dt.timezone.utc), seconds, rows])


def run(args, *, out: TextIO) -> dict:
    out.write(__doc__.splitlines()[0] + "\n")
    pool.template_ensure()
    today = clock.today()
    with Progress(out, args.schools, label="  provisioning schools ") as bar:
        for n in range(1, args.schools + 1):
            school_provision(name=f"Retention School {n}", subdomain=f"ret{n}", admin_email=f"head@ret{n}.example")
            bar.update(n)
    for school in School.objects.all():
        Contract.objects.create(school=school, starts_on=dt.date(2024, 9, 1), status=Contract.Status.ACTIVE)

    out.write("  daily run, nothing due...\n")
    started = time.perf_counter()
    quiet = retention_run(as_of=today)
    nothing_due = time.perf_counter() - started
    assert quiet.units_deleted == 0, quiet.units_deleted

    old_a = clock.add_months(today.replace(day=1), -15)
    old_b = clock.add_months(today.replace(day=1), -14)
    out.write(f"  loading {args.visit_rows:,} visits into each of two old months...\n")
    _fill_month(old_a, args.visit_rows)
    _fill_month(old_b, args.visit_rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE public.technical_visit")
        cursor.execute("SELECT pg_total_relation_size(%s)", [f"public.{visit_partition_name(old_a)}"])
        (partition_bytes,) = cursor.fetchone()
        # Both purges start from a clean checkpoint, as a year-old month would: neither pays for
        # the other's (or the load's) dirty pages being written out meanwhile.
        cursor.execute("CHECKPOINT")
    out.write("  baseline: DELETE of one month's rows...\n")
    upper = dt.datetime.combine(clock.add_months(old_b, 1), dt.time(), dt.timezone.utc)
    lower = dt.datetime.combine(old_b, dt.time(), dt.timezone.utc)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        execute(cursor, sql.SQL("DELETE FROM {} WHERE occurred_at >= %s AND occurred_at < %s").format(
            sql.Identifier("public", VISIT_TABLE)), [lower, upper])
        deleted_rows = cursor.rowcount
    delete_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:  # DELETE only marks rows dead; VACUUM gives the space back
        execute(cursor, sql.SQL("VACUUM {}").format(sql.Identifier("public", visit_partition_name(old_b))))
    vacuum_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    out.write("  retention: partition drop of the other month...\n")
    started = time.perf_counter()
    with transaction.atomic():
        dropped = DELETERS["visit_partition"](visit_partition_name(old_a), today)
    drop_seconds = time.perf_counter() - started
    assert dropped == args.visit_rows and deleted_rows == args.visit_rows

    cancelled_on = today - dt.timedelta(days=200)
    cancelled_ids = list(School.objects.order_by("pk").values_list("pk", flat=True)[:args.cancelled])
    Contract.objects.filter(school_id__in=cancelled_ids).update(status=Contract.Status.CANCELLED, cancelled_on=cancelled_on)
    School.objects.filter(pk__in=cancelled_ids).update(status=School.Status.CANCELLED)
    out.write(f"  dropping {args.cancelled} cancelled schools...\n")
    started = time.perf_counter()
    drop_run = retention_run(as_of=today, scope="public")
    schools_seconds = time.perf_counter() - started
    gone = DeletionRecord.objects.filter(run=drop_run, kind="school_database").count()
    assert gone == args.cancelled, gone

    ratio = delete_seconds / drop_seconds
    ratio_with_vacuum = (delete_seconds + vacuum_seconds) / drop_seconds
    out.write("\n")
    header = f"{'retention work':<72} | {'seconds':>8}"
    out.write(header + "\n" + "-" * len(header) + "\n")
    for label, seconds in [
        (f"daily run, {args.schools:,} schools, nothing due", nothing_due),
        (f"purge {args.visit_rows:,} visits ({partition_bytes / 2**30:.1f} GB): partition drop (the executor's step)",
         drop_seconds),
        (f"purge {args.visit_rows:,} visits: DELETE (baseline)", delete_seconds),
        (f"purge {args.visit_rows:,} visits: DELETE then VACUUM (baseline, space returned)", delete_seconds + vacuum_seconds),
        (f"drop {args.cancelled} cancelled schools' schemas (and their configuration)", schools_seconds),
    ]:
        out.write(f"{label:<72} | {seconds:>8.2f}\n")
    met = nothing_due < TARGET_NOTHING_DUE_SECONDS and ratio >= TARGET_RATIO
    out.write(f"Partition drop is {ratio:,.0f}x faster than DELETE, {ratio_with_vacuum:,.0f}x than DELETE and VACUUM. Targets (nothing due under "
              f"{TARGET_NOTHING_DUE_SECONDS:.0f} s; drop at least {TARGET_RATIO:.0f}x faster): {'met' if met else 'NOT met'}.\n")
    return {"schools": args.schools, "nothing_due_seconds": round(nothing_due, 2), "visit_rows": args.visit_rows,
            "partition_bytes": partition_bytes, "partition_drop_seconds": round(drop_seconds, 3), "delete_seconds": round(delete_seconds, 2),
            "ratio": round(ratio, 1), "vacuum_seconds": round(vacuum_seconds, 2),
            "ratio_with_vacuum": round(ratio_with_vacuum, 1), "cancelled_schools": args.cancelled, "schema_drops_seconds": round(schools_seconds, 2),
            "target_met": met}
