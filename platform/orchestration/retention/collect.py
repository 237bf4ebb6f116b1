"""What the database holds as retention units, each with the date its period counts from: in
``public`` (invoices, ended contracts, prospects, months of visits and of the change log) and
inside each school's schema (pupils who have left, on the school's grace period); with the legal
holds and shortenings the planner weighs against them."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django_tenants.utils import schema_context

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.audit.services import VISIT_TABLE
from shared.billing.models import Invoice
from shared.clients.models import Contract
from shared.marketing.models import Prospect
from shared.privacy.models import LegalHold, RetentionShortening
from shared.privacy.retention.registry import Category
from shared.privacy.retention.rules import Hold, Period, Record, Shortening, record_of
from shared.schools.models import School


def _month_end(month_start: dt.date) -> dt.date:
    return clock.add_months(month_start, 1) - dt.timedelta(days=1)


def school_units_collect(school: School) -> list[Record]:
    """The units inside one school's own schema: pupils who have left, on the school's grace period
    (not those whose processing is restricted or objected to)."""
    from tenants.pupils.models import Pupil, RetentionSettings

    if school.schema_dropped_at is not None:
        return []
    with schema_context(school.schema_name):
        settings_row = RetentionSettings.objects.first()
        grace = Period(months=settings_row.grace_months if settings_row else RetentionSettings.DEFAULT_GRACE_MONTHS)
        return [Record("pupil", _pupil_unit(school.pk, pk), left, client_id=school.pk,
                       person=f"pupil:{school.pk}:{pk}", period=grace)
                for pk, left in Pupil.objects.filter(on_roll=False, leaving_date__isnull=False)
                # restricted or objected to: kept as they are, no automated process touches them
                # (tenants.rights.services.subject_flag) until the school lifts the flag or erases
                .filter(processing_restricted=False, processing_objected=False)
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


def units_collect(*, school_id: int | None = None, scope: str = "all") -> list[Record]:
    """The units in ``scope``: "public" (the vendor's, narrowed to one client's with ``school_id``),
    "school" (inside the schools' schemas; one school's with ``school_id``) or "all"."""
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


def _pupil_unit(school_id: int, pupil_id: int) -> str:
    return f"school:{school_id}:pupil:{pupil_id}"


def unit_pupil_id(record: Record) -> int | None:
    """The pupil a school's retention unit is about (``school_units_collect`` names it), or None."""
    if record.kind != "pupil":
        return None
    return int(record.key.rsplit(":", 1)[1])
