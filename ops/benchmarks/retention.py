"""Retention at fleet scale: a daily run with nothing due, purging visits, dropping schools.

1. A daily run (every school's job and the public one, in this process) over 1,000 schools with
   nothing due, every category present: besides pupils and contracts, each school's ended contact
   and its own closed request (in its schema), the vendor's closed subject requests, breaches,
   disclosures, ended holds, notice versions, a year of the change log and of the support-access log.
2. Ten million expired visit rows purged by dropping their monthly partition, against the same
   number deleted with ``DELETE`` (then ``VACUUM``) from another month's partition (the baseline),
   and against the limit the disk sets: unlinking a file of the partition's size. Each after the
   same ``CHECKPOINT``, repeated (``--repeats``), medians reported. Judged: the drop within 1.5x of
   the disk's limit, and at least 20x faster than ``DELETE`` then ``VACUUM``.
3. The schemas of 100 cancelled schools dropped by one run, each with its deletion record.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import TextIO

from django.db import connection, transaction
from django_tenants.utils import schema_context
from psycopg2 import sql

from orchestration import pool
from orchestration.provisioning import school_provision
from orchestration.retention.delete import DELETERS
from orchestration.retention.run import retention_run
from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.audit.services import VISIT_TABLE, visit_partition_name, visit_partition_rows_add, visit_partitions_ensure
from shared.clients.models import Contact, Contract
from shared.compliance.models import Breach, Disclosure, NoticeVersion
from shared.operators.services import operator_create
from shared.pg_tools import execute
from shared.privacy.models import DeletionRecord, LegalHold, SubjectRequest
from shared.progress import Progress
from shared.schools.models import School
from shared.support.models import SupportAccessLog

TARGET_NOTHING_DUE_SECONDS = 10.0
TARGET_DISK_LIMIT_FACTOR = 1.5  # the drop within 1.5x of unlinking a file of the partition's size
TARGET_RATIO_WITH_VACUUM = 20.0  # and at least 20x faster than DELETE then VACUUM
CHANGE_LOG_PER_DAY = 300


def add_arguments(parser) -> None:
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--cancelled", type=int, default=100)
    parser.add_argument("--visit-rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="purge measurements, medians reported")


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


def _new_categories_fill(today: dt.date) -> dict[str, int]:
    """Every category the daily run collects, none of it due yet: per school an ended contact and
    a closed request in its own schema; the vendor's default-category records; a year of the
    change log and of the support-access log."""
    recent = today - dt.timedelta(days=30)
    at = dt.datetime.combine(recent, dt.time(12), dt.timezone.utc)
    schools = list(School.objects.order_by("pk"))
    Contact.objects.bulk_create([Contact(school=school, full_name=f"Former Bursar {school.pk}", ended_on=recent)
                                 for school in schools])
    from tenants.rights.models import SchoolRequest

    for school in schools:
        with schema_context(school.schema_name):
            SchoolRequest.objects.create(kind="access", state="completed", received_on=recent, closed_on=today,
                                         requester_name="A parent")
    SubjectRequest.objects.bulk_create([SubjectRequest(kind="access", state="completed", received_on=recent,
                                                       requester_name=f"Requester {n}", closed_on=today)
                                        for n in range(len(schools))])
    Breach.objects.bulk_create([Breach(summary=f"Breach {n}", nature="-", aware_at=at, consequences="-", measures="-",
                                       risk=Breach.Risk.LOW, closed_at=at) for n in range(100)])
    Disclosure.objects.bulk_create([Disclosure(recipient=f"Recipient {n}", disclosed_at=at, ground="legal_obligation",
                                               description="-", authorised_by="DPO") for n in range(100)])
    LegalHold.objects.bulk_create([LegalHold(reason=f"Hold {n}", owner="dpo", starts_on=recent - dt.timedelta(days=9),
                                             ends_on=recent, category="tax") for n in range(100)])
    NoticeVersion.objects.bulk_create([NoticeVersion(version=f"bench-{n}", published_on=recent + dt.timedelta(days=n),
                                                     text="-", summary="-") for n in range(5)])
    operator, _ = operator_create(email="bench-operator@vendor.example", full_name="Bench Operator", role="support")
    with connection.cursor() as cursor:  # a year of both logs, up to the day before the run
        cursor.execute(
            f"INSERT INTO {ChangeLogEntry._meta.db_table} (occurred_at, actor_kind, actor_id, actor_schema, object_schema, "
            "object_type, object_id, action, fields) SELECT %s::timestamptz - make_interval(secs => g * %s), "
            "'operator', 1, 'public', 'public', 'clients.contact', g::text, 'update', ARRAY['email'] "
            "FROM generate_series(1, %s) AS g", [dt.datetime.combine(today, dt.time(), dt.timezone.utc),
                                                 86400 // CHANGE_LOG_PER_DAY, 364 * CHANGE_LOG_PER_DAY])
        cursor.execute(
            f"INSERT INTO {SupportAccessLog._meta.db_table} (operator_id, school_id, path, occurred_at, outcome, "
            "refusal_reason) SELECT %s, %s, '/console/support/pupils/' || g, %s::timestamptz - make_interval(days => g), "
            "'refused', 'no_grant' FROM generate_series(1, 364) AS g",
            [operator.pk, schools[0].pk, dt.datetime.combine(today, dt.time(), dt.timezone.utc)])
    return {"ended_contacts": len(schools), "school_requests": len(schools), "subject_requests": len(schools),
            "change_log_entries": 364 * CHANGE_LOG_PER_DAY}


def _scratch_dir_beside(data_directory: str) -> tuple[Path, bool]:
    """A folder on the database's own disk for the disk-limit file (the temporary folder where it
    is that disk, else beside the data directory), and whether it is that disk."""
    candidates = [Path(tempfile.gettempdir()), Path(data_directory).parent]
    try:
        device = os.stat(data_directory).st_dev
    except OSError:
        return candidates[0], False
    for folder in candidates:
        try:
            if os.stat(folder).st_dev == device and os.access(folder, os.W_OK):
                return folder, True
        except OSError:
            continue
    return candidates[0], False


def _disk_limit_seconds(size: int, folder: Path) -> float:
    """Unlink a file of ``size`` bytes (written and synced first), after the same CHECKPOINT as
    the purges: the disk's own cost of freeing that much, below which no purge can go."""
    chunk = os.urandom(8 * 2**20)
    path = folder / f"bench_disk_limit_{os.getpid()}"
    try:
        with open(path, "wb") as handle:
            written = 0
            while written < size:
                written += handle.write(chunk[:min(len(chunk), size - written)])
            handle.flush()
            os.fsync(handle.fileno())
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
        started = time.perf_counter()
        os.unlink(path)
        return time.perf_counter() - started
    finally:
        path.unlink(missing_ok=True)


def _purge_once(today: dt.date, old_a: dt.date, old_b: dt.date, rows: int, scratch: Path) -> dict[str, float]:
    """One measurement of the three purges (and the disk's limit) on two freshly loaded months."""
    _fill_month(old_a, rows)
    _fill_month(old_b, rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE public.technical_visit")
        cursor.execute("SELECT pg_total_relation_size(%s)", [f"public.{visit_partition_name(old_a)}"])
        (partition_bytes,) = cursor.fetchone()
        # Every purge starts from a clean checkpoint, as a year-old month would: none pays for
        # another's (or the load's) dirty pages being written out meanwhile.
        cursor.execute("CHECKPOINT")
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
    started = time.perf_counter()
    with transaction.atomic():
        dropped = DELETERS["visit_partition"](visit_partition_name(old_a), today)
    drop_seconds = time.perf_counter() - started
    assert dropped == rows and deleted_rows == rows
    with connection.cursor() as cursor:  # the emptied month goes too, outside the measurement
        execute(cursor, sql.SQL("DROP TABLE {}").format(sql.Identifier("public", visit_partition_name(old_b))))
    disk_seconds = _disk_limit_seconds(partition_bytes, scratch)
    return {"partition_bytes": partition_bytes, "drop": drop_seconds, "delete": delete_seconds,
            "vacuum": vacuum_seconds, "delete_vacuum": delete_seconds + vacuum_seconds, "disk": disk_seconds}


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
    out.write("  filling the new categories (ended contacts, requests, breaches, disclosures, holds, notices, logs)...\n")
    filled = _new_categories_fill(today)

    out.write("  daily run, nothing due...\n")
    started = time.perf_counter()
    quiet = retention_run(as_of=today)
    nothing_due = time.perf_counter() - started
    assert quiet.units_deleted == 0, quiet.units_deleted

    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        (data_directory,) = cursor.fetchone()
    scratch, same_disk = _scratch_dir_beside(data_directory)
    runs = []
    for repeat in range(args.repeats):
        old_a = clock.add_months(today.replace(day=1), -15 - 2 * repeat)
        old_b = clock.add_months(today.replace(day=1), -14 - 2 * repeat)
        out.write(f"  purge {repeat + 1}/{args.repeats}: {args.visit_rows:,} visits into each of two old months, "
                  "DELETE then VACUUM of one, drop of the other, unlink of a file of its size...\n")
        runs.append(_purge_once(today, old_a, old_b, args.visit_rows, scratch))
    median = {key: statistics.median(each[key] for each in runs) for key in runs[0]}
    partition_bytes = int(median["partition_bytes"])
    out.write(f"  purges (medians): drop {median['drop']:.3f} s, disk limit {median['disk']:.3f} s, DELETE "
              f"{median['delete']:.2f} s, DELETE then VACUUM {median['delete_vacuum']:.2f} s\n")

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

    drop_seconds = median["drop"]
    ratio = median["delete"] / drop_seconds
    ratio_with_vacuum = median["delete_vacuum"] / drop_seconds
    disk_factor = drop_seconds / median["disk"]
    out.write("\n")
    header = f"{'retention work (medians of ' + str(args.repeats) + ' purges)':<80} | {'seconds':>8}"
    out.write(header + "\n" + "-" * len(header) + "\n")
    for label, seconds in [
        (f"daily run, {args.schools:,} schools, every category present, nothing due", nothing_due),
        (f"purge {args.visit_rows:,} visits ({partition_bytes / 2**30:.1f} GB): partition drop (the executor's step)",
         drop_seconds),
        (f"the disk's limit: unlink a {partition_bytes / 2**30:.1f} GB file"
         + ("" if same_disk else " (NOT the database's disk)"), median["disk"]),
        (f"purge {args.visit_rows:,} visits: DELETE (baseline)", median["delete"]),
        (f"purge {args.visit_rows:,} visits: DELETE then VACUUM (baseline, space returned)", median["delete_vacuum"]),
        (f"drop {args.cancelled} cancelled schools' schemas (and their configuration)", schools_seconds),
    ]:
        out.write(f"{label:<80} | {seconds:>8.2f}\n")
    met = (nothing_due < TARGET_NOTHING_DUE_SECONDS and disk_factor <= TARGET_DISK_LIMIT_FACTOR
           and ratio_with_vacuum >= TARGET_RATIO_WITH_VACUUM)
    out.write(f"Partition drop takes {disk_factor:.2f}x the disk's own limit, and is {ratio_with_vacuum:,.0f}x faster than "
              f"DELETE and VACUUM ({ratio:,.0f}x than DELETE alone). Targets (nothing due under "
              f"{TARGET_NOTHING_DUE_SECONDS:.0f} s; drop within {TARGET_DISK_LIMIT_FACTOR}x of the disk's limit and at "
              f"least {TARGET_RATIO_WITH_VACUUM:.0f}x faster than DELETE and VACUUM): {'met' if met else 'NOT met'}.\n")
    return {"schools": args.schools, "nothing_due_seconds": round(nothing_due, 2), "visit_rows": args.visit_rows,
            "filled": filled, "repeats": args.repeats, "partition_bytes": partition_bytes,
            "partition_drop_seconds": round(drop_seconds, 3), "disk_limit_seconds": round(median["disk"], 3),
            "disk_limit_same_disk": same_disk, "drop_to_disk_limit": round(disk_factor, 2),
            "delete_seconds": round(median["delete"], 2), "ratio": round(ratio, 1),
            "vacuum_seconds": round(median["vacuum"], 2), "ratio_with_vacuum": round(ratio_with_vacuum, 1),
            "each_purge": [{key: round(value, 3) for key, value in each.items()} for each in runs],
            "cancelled_schools": args.cancelled, "schema_drops_seconds": round(schools_seconds, 2),
            "target_met": met}
