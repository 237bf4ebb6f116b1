"""The retention executor: collect what the database holds as retention units (in ``public`` and
inside each school's schema), plan with the pure planner (``shared.privacy.retention.rules``), and
delete what is due, one unit per transaction, each with its deletion record. The retention calendar
the console and each school's site show is read here too, from the same units.

Safe to kill at any moment and to run again: a unit is deleted and recorded in one transaction, and
the deletion record's uniqueness on (kind, unit) means a rerun skips what is done and deletes
nothing twice. Runs never overlap (a PostgreSQL advisory lock).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django_tenants.utils import schema_context
from psycopg2 import sql

from shared import clock, locks
from shared.locks import advisory_lock
from shared.pg_tools import execute
from shared.billing.models import CreditNote, Invoice, InvoiceLine, Payment
from shared.clients.models import ClientAccount, Complaint, Contact, Contract, Correspondence
from shared.clients.services import attachment_files_destroy
from shared.marketing.models import Prospect
from shared.privacy.models import DeletionRecord, LegalHold, RetentionRun, RetentionShortening
from shared.privacy.retention.registry import Category
from shared.privacy.retention.rules import (POLICY_VERSION, Due, Hold, Period, Record, Shortening, Unplannable, plan,
                                           record_of, unplannable, upcoming)
from shared.schools.models import Domain, School
from shared.audit.models import ChangeLogEntry
from shared.audit.services import VISIT_TABLE

log = structlog.get_logger(__name__)


class RetentionBusy(Exception):
    """Another retention run holds the lock."""


# --- What the database holds, as retention units ---------------------------------------------------


def _month_end(month_start: dt.date) -> dt.date:
    return clock.add_months(month_start, 1) - dt.timedelta(days=1)


def school_units_collect(school: School) -> list[Record]:
    """The units inside one school's own schema: pupils who have left, on the school's grace period."""
    from tenants.pupils.models import Pupil, RetentionSettings

    if school.schema_dropped_at is not None:
        return []
    with schema_context(school.schema_name):
        settings_row = RetentionSettings.objects.first()
        grace = Period(months=settings_row.grace_months if settings_row else RetentionSettings.DEFAULT_GRACE_MONTHS)
        return [Record("pupil", _pupil_unit(school.pk, pk), left, client_id=school.pk,
                       person=f"pupil:{school.pk}:{pk}", period=grace)
                for pk, left in Pupil.objects.filter(on_roll=False, leaving_date__isnull=False)
                .values_list("pk", "leaving_date")]


def public_units_collect(*, school_id: int | None = None) -> list[Record]:
    """Every retention unit the vendor decides on, from ``public``, with the date its period counts
    from. ``school_id`` narrows to one client's units (and leaves out the vendor-wide ones)."""
    records: list[Record] = []
    invoices = Invoice.objects.all() if school_id is None else Invoice.objects.filter(school_id=school_id)
    for invoice in invoices.annotate(paid=Max("payments__tax_year"), credited=Max("credit_notes__tax_year")):
        year = max(invoice.tax_year, invoice.paid or 0, invoice.credited or 0)
        records.append(record_of("tax_record", f"invoice:{invoice.pk}", lambda year=year: clock.uk_tax_year_end(year),
                                 client_id=invoice.school_id))
    contracts = Contract.objects.filter(status__in=[Contract.Status.CANCELLED, Contract.Status.ENDED])
    if school_id is not None:
        contracts = contracts.filter(school_id=school_id)
    for contract in contracts:
        ended = contract.ends_on or contract.cancelled_on
        if ended is None:
            continue
        counts_from = max(ended, contract.last_used_on or ended)
        records.append(Record("client_records", f"school:{contract.school_id}", counts_from, client_id=contract.school_id))
        if contract.cancelled_on is not None:
            records.append(Record("school_configuration", f"school:{contract.school_id}", contract.cancelled_on,
                                  client_id=contract.school_id))
            records.append(Record("school_database", f"school:{contract.school_id}", contract.cancelled_on,
                                  client_id=contract.school_id))
    if school_id is None:
        for prospect_id, last in Prospect.objects.values_list("pk", "last_interaction_at"):
            records.append(record_of("prospect", f"prospect:{prospect_id}", lambda last=last: timezone.localdate(last),
                                     person=f"prospect:{prospect_id}"))
        for partition, month in visit_partitions():
            records.append(record_of("visit_partition", partition, lambda month=month: _month_end(month)))
        for month in ChangeLogEntry.objects.dates("occurred_at", "month"):
            records.append(record_of("change_log", f"change_log:{month:%Y-%m}", lambda month=month: _month_end(month)))
    return records


def visit_partitions() -> list[tuple[str, dt.date]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                       "WHERE i.inhparent = %s::regclass", [f"public.{VISIT_TABLE}"])
        names = [row[0] for row in cursor.fetchall()]
    return sorted((name, dt.date(int(name[-7:-3]), int(name[-2:]), 1)) for name in names)


def holds_and_shortenings() -> tuple[list[Hold], list[Shortening]]:
    holds = [Hold(reason=h.reason, owner=h.owner, starts_on=h.starts_on, ends_on=h.ends_on, client_id=h.school_id,
                  person=h.person or None, category=Category(h.category) if h.category else None)
             for h in LegalHold.objects.all()]
    shortenings = [Shortening(s.school_id, Category(s.category), Period(months=s.months), s.reason)
                   for s in RetentionShortening.objects.all()]
    return holds, shortenings


def retention_plan(*, as_of: dt.date, school_id: int | None = None, scope: str = "all") -> list[Due]:
    """What is due. ``scope``: "public" (the vendor's units), "school" (inside one school's
    schema; needs ``school_id``) or "all"."""
    holds, shortenings = holds_and_shortenings()
    return plan(_records(school_id, scope), as_of=as_of, holds=holds, shortenings=shortenings)


def retention_unplannable(*, school_id: int | None = None, scope: str = "all") -> list[Unplannable]:
    """The units in ``scope`` that cannot be planned (their dates are out of range), and why."""
    _, shortenings = holds_and_shortenings()
    return unplannable(_records(school_id, scope), shortenings)


def _records(school_id: int | None, scope: str) -> list[Record]:
    records: list[Record] = []
    if scope in ("public", "all"):
        records += public_units_collect(school_id=school_id)
    if scope in ("school", "all"):
        schools = School.objects.filter(schema_dropped_at__isnull=True)
        if school_id is not None:
            schools = schools.filter(pk=school_id)
        for school in schools:
            records += school_units_collect(school)
    return records


def _pupil_unit(school_id: int, pupil_id: int) -> str:
    return f"school:{school_id}:pupil:{pupil_id}"


def unit_pupil_id(record: Record) -> int | None:
    """The pupil a school's retention unit is about (``school_units_collect`` names it), or None."""
    if record.kind != "pupil":
        return None
    return int(record.key.rsplit(":", 1)[1])


@dataclass(frozen=True)
class RetentionCalendar:
    due: list[Due]  # what falls due within the window, soonest first
    unplannable: list[Unplannable]  # units whose dates are out of range: kept until corrected


def retention_calendar(*, as_of: dt.date, days: int, school: School | None = None) -> RetentionCalendar:
    """What falls due in the ``days`` from ``as_of`` and what cannot be planned: for the console,
    the vendor's units and those inside every school; for one school's site (``school``), the
    units in its own schema (its pupils who have left)."""
    holds, shortenings = holds_and_shortenings()
    if school is not None:
        records = school_units_collect(school)
    else:
        records = public_units_collect() + [unit for each in School.objects.filter(schema_dropped_at__isnull=True)
                                            for unit in school_units_collect(each)]
    return RetentionCalendar(due=upcoming(records, as_of=as_of, days=days, holds=holds, shortenings=shortenings),
                             unplannable=unplannable(records, shortenings))


# --- Deleting one unit ------------------------------------------------------------------------------


def _delete_tax_record(unit: str, as_of: dt.date) -> int:
    invoice_id = int(unit.split(":")[1])
    counts = [model.objects.filter(invoice_id=invoice_id).delete()[0] for model in (Payment, CreditNote, InvoiceLine)]
    return sum(counts) + Invoice.objects.filter(pk=invoice_id).delete()[0]


def _delete_client_records(unit: str, as_of: dt.date) -> int:
    """The client's correspondence (its attachments' files first, as for the school's configuration
    files: a failed unit leaves rows naming missing files, which the rerun deletes, never files no
    row names), complaints, contacts and accounts."""
    school_id = int(unit.split(":")[1])
    attachment_files_destroy(school_id=school_id)
    total = 0
    for model in (Correspondence, Complaint, Contact, ClientAccount):
        total += model.objects.filter(school_id=school_id).delete()[0]
    return total


def _delete_prospect(unit: str, as_of: dt.date) -> int:
    return Prospect.objects.filter(pk=int(unit.split(":")[1])).delete()[0]


def _drop_visit_partition(unit: str, as_of: dt.date) -> int:
    """Drop a month of visits whole. Its row count comes from the counts the flush keeps (counting
    ten million rows would cost more than the drop); a partition without one is counted."""
    from shared.audit.models import VisitPartitionRows

    counted = VisitPartitionRows.objects.filter(partition=unit).first()
    with connection.cursor() as cursor:
        partition = sql.Identifier("public", unit)
        if counted is None:
            execute(cursor, sql.SQL("SELECT count(*) FROM {}").format(partition))
            (rows,) = cursor.fetchone()
        else:
            rows = counted.rows
        execute(cursor, sql.SQL("DROP TABLE IF EXISTS {}").format(partition))
    VisitPartitionRows.objects.filter(partition=unit).delete()
    return rows


def _delete_change_log_month(unit: str, as_of: dt.date) -> int:
    year, month = map(int, unit.split(":")[1].split("-"))
    return ChangeLogEntry.objects.filter(occurred_at__year=year, occurred_at__month=month).delete()[0]


def _delete_school_configuration(unit: str, as_of: dt.date) -> int:
    """Settings, branding, uploaded documents and integration credentials: the rows in the school's
    schema (while it exists) and the school's whole folder of files."""
    from tenants.configuration.models import Branding, SchoolDocument
    from tenants.configuration.storage import school_folder_destroy
    from tenants.pupils.models import RetentionSettings
    from tenants.xporter.models import XporterConnection

    school = School.objects.get(pk=int(unit.split(":")[1]))
    # Files first: if this unit's transaction then fails, the rerun deletes the rows that named
    # them; the other order could commit with the files still on disk.
    deleted = school_folder_destroy(school.schema_name)
    if school.schema_dropped_at is None:
        with schema_context(school.schema_name):
            for model in (XporterConnection, RetentionSettings, Branding, SchoolDocument):
                deleted += model.objects.all().delete()[0]
    return deleted


def _delete_pupil(unit: str, as_of: dt.date) -> int:
    """A pupil who left, with their results, targets and family links; parents and carers left
    with no child at the school go too."""
    from tenants.pupils.models import ParentCarer, Pupil

    _, school_id, _, pupil_id = unit.split(":")
    school = School.objects.get(pk=int(school_id))
    with schema_context(school.schema_name):
        deleted = Pupil.objects.filter(pk=int(pupil_id)).delete()[0]
        deleted += ParentCarer.objects.filter(child_links__isnull=True).delete()[0]
    return deleted


def _drop_school_schema(unit: str, as_of: dt.date) -> int | tuple[int, dict]:
    """The school's schema, its domains and any files left; and its backup data keys, in the same
    transaction, so that every backup of the school becomes unreadable as the schema goes."""
    from shared.backups.keys import data_keys_destroy
    from tenants.configuration.storage import school_folder_destroy

    school = School.objects.select_for_update().get(pk=int(unit.split(":")[1]))
    if school.schema_dropped_at is not None:
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE n.nspname = %s AND c.relkind = 'r'", [school.schema_name])
        (tables,) = cursor.fetchone()
        # Deferred foreign-key checks queued earlier in this transaction must fire before their
        # tables go (PostgreSQL refuses to drop a table with pending trigger events).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        execute(cursor, sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(school.schema_name)))
    domains = Domain.objects.filter(tenant=school).delete()[0]
    school_folder_destroy(school.schema_name)  # any files a hold on the configuration kept
    school.schema_dropped_at = clock.now()
    school.save(update_fields=["schema_dropped_at"])
    keys = data_keys_destroy(school=school)
    return tables + domains, {"backup_keys_destroyed": keys}


# Each returns the records it deleted, or that and further fields of the deletion record.
DELETERS: dict[str, Callable[[str, dt.date], int | tuple[int, dict]]] = {
    "tax_record": _delete_tax_record,
    "client_records": _delete_client_records,
    "prospect": _delete_prospect,
    "visit_partition": _drop_visit_partition,
    "change_log": _delete_change_log_month,
    "school_configuration": _delete_school_configuration,
    "school_database": _drop_school_schema,
    "pupil": _delete_pupil,
}


def _trim_boundary_visits(as_of: dt.date, run: RetentionRun) -> int:
    """Rows past 365 days in the one partition that still holds newer rows too."""
    cutoff = dt.datetime.combine(as_of - dt.timedelta(days=365), dt.time(), dt.timezone.utc)
    with transaction.atomic(), connection.cursor() as cursor:
        execute(cursor, sql.SQL("DELETE FROM {} WHERE occurred_at < %s").format(sql.Identifier("public", VISIT_TABLE)),
                [cutoff])
        trimmed = cursor.rowcount
        if trimmed:
            DeletionRecord.objects.create(kind="visit_rows", unit=f"visits-before:{cutoff.date().isoformat()}",
                                          category=Category.TECHNICAL, records_deleted=trimmed,
                                          rule="365 days (IP addresses and user ids)", policy_version=POLICY_VERSION,
                                          due_on=as_of, run=run)
    return trimmed


def retention_run(*, as_of: dt.date, school_id: int | None = None, scope: str = "all",
                  progress: Callable[[int, int], None] | None = None,
                  after_each: Callable[[Due], None] | None = None) -> RetentionRun:
    """Delete everything due on ``as_of`` in ``scope`` (see ``retention_plan``). Returns the run;
    its deletion records say what went. Two runs of the same scope never overlap."""
    connection.set_schema_to_public()
    with advisory_lock(locks.RETENTION_RUN, (school_id or 0) if scope == "school" else -1) as locked:
        if not locked:
            raise RetentionBusy("another retention run of this scope is in progress")
        try:
            return _retention_run(as_of=as_of, school_id=school_id, scope=scope, progress=progress,
                                  after_each=after_each)
        finally:
            connection.set_schema_to_public()


def _retention_run(*, as_of: dt.date, school_id: int | None, scope: str, progress, after_each) -> RetentionRun:
    run = RetentionRun.objects.create(as_of=as_of)
    due = retention_plan(as_of=as_of, school_id=school_id, scope=scope)
    # Units a crashed earlier run already deleted (only those due now are looked up).
    done = set(DeletionRecord.objects.filter(unit__in={d.record.key for d in due}).values_list("kind", "unit"))
    for index, item in enumerate(due, start=1):
        key = (item.record.kind, item.record.key)
        if key not in done:
            with transaction.atomic():
                count = DELETERS[item.record.kind](item.record.key, as_of)
                count, detail = count if isinstance(count, tuple) else (count, {})
                DeletionRecord.objects.create(
                    kind=item.record.kind, unit=item.record.key, school_id=item.record.client_id,
                    category=item.record.category, records_deleted=count, rule=item.rule,
                    policy_version=POLICY_VERSION, due_on=item.due_on, run=run, **detail)
            run.units_deleted += 1
            log.info("retention.deleted", kind=item.record.kind, unit=item.record.key, records=count)
        if after_each:
            after_each(item)
        if progress:
            progress(index, len(due))
    if school_id is None and scope in ("public", "all"):
        _trim_boundary_visits(as_of, run)
    run.finished_at = clock.now()
    run.save(update_fields=["finished_at", "units_deleted"])
    return run
