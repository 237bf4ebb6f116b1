"""What the database holds as retention units, each with the date its period counts from: in
``public`` (invoices, ended contracts, contacts who stopped being a client's contact, prospects,
months of visits, days of the change log and of the support-access log, and the default
category's records: closed subject requests, closed breaches with their notifications,
disclosures, ended legal holds, superseded notice versions, and the erasure ledger of a school whose
schema and backup keys are gone) and inside each school's schema (pupils who have left, on the
school's grace period; the school's closed requests); with the legal holds and shortenings the
planner weighs against them."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import F, Max
from django.db.models.functions import TruncDate
from django.utils import timezone
from django_tenants.utils import schema_context

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.audit.services import VISIT_TABLE
from shared.backups.models import SchoolDataKey
from shared.billing.models import Invoice
from shared.clients.models import Contact, Contract
from shared.compliance.models import Breach, Disclosure, NoticeVersion, Recipient, RecipientHolding, TermsVersion
from shared.mail.models import MailPreference, OutgoingMessage
from shared.marketing.models import Prospect
from shared.privacy.models import LegalHold, RetentionShortening, SubjectRequest
from shared.privacy.retention.registry import Category
from shared.privacy.retention.rules import Hold, Period, Record, Shortening, record_of
from shared.schools.models import School
from shared.support.models import SupportAccessLog


def _month_end(month_start: dt.date) -> dt.date:
    return clock.add_months(month_start, 1) - dt.timedelta(days=1)


def school_units_collect(school: School) -> list[Record]:
    """The units inside one school's own schema: pupils who have left, on the school's grace
    period (not those whose processing is restricted or objected to); and the school's own closed
    subject requests, 7 years from receipt (the default rule: an open request is never due)."""
    from tenants.pupils.models import Pupil, RetentionSettings
    from tenants.rights.models import SchoolRequest

    if school.schema_dropped_at is not None:
        return []
    with schema_context(school.schema_name):
        settings_row = RetentionSettings.objects.first()
        grace = Period(months=settings_row.grace_months if settings_row else RetentionSettings.DEFAULT_GRACE_MONTHS)
        records = [Record("pupil", _pupil_unit(school.pk, pk), left, client_id=school.pk,
                          person=f"pupil:{school.pk}:{pk}", period=grace)
                   for pk, left in Pupil.objects.filter(on_roll=False, leaving_date__isnull=False)
                   # restricted or objected to: kept as they are, no automated process touches them
                   # (tenants.rights.services.subject_flag) until the school lifts the flag or erases
                   .filter(processing_restricted=False, processing_objected=False)
                   .values_list("pk", "leaving_date")]
        records += [Record("school_request", f"school:{school.pk}:request:{pk}", received, client_id=school.pk)
                    for pk, received in SchoolRequest.objects.exclude(state__in=SchoolRequest.OPEN_STATES)
                    .values_list("pk", "received_on")]
        return records


def _utc_days(queryset, field: str) -> list[dt.date]:
    """The UTC days on which ``queryset`` has rows (technical information counts in UTC days, as
    the visits' monthly partitions are UTC months)."""
    return sorted(queryset.annotate(day=TruncDate(field, tzinfo=dt.timezone.utc))
                  .values_list("day", flat=True).distinct().order_by())


def _default_units_collect() -> list[Record]:
    """The vendor's records in the default category ("Any category not specifically defined: 7
    years from the date of receipt"): what is still being handled (an open request or breach, an
    active hold, the notice in force) yields no unit, so it is never due."""
    records = [Record("subject_request", f"subject_request:{pk}", received, client_id=school_id)
               for pk, received, school_id in SubjectRequest.objects.exclude(state__in=SubjectRequest.OPEN_STATES)
               .values_list("pk", "received_on", "school_id")]
    # A breach is received when we became aware of it (when it happened may be unknown, or long
    # before anyone could know); it is kept while it is being handled.
    records += [record_of("breach", f"breach:{pk}", lambda aware=aware: timezone.localdate(aware))
                for pk, aware in Breach.objects.filter(closed_at__isnull=False).values_list("pk", "aware_at")]
    records += [record_of("disclosure", f"disclosure:{pk}", lambda at=at: timezone.localdate(at))
                for pk, at in Disclosure.objects.values_list("pk", "disclosed_at")]
    # A hold with no end date is active until lifted (lifting it sets the end).
    records += [Record("legal_hold", f"legal_hold:{pk}", ends_on, client_id=school_id)
                for pk, ends_on, school_id in LegalHold.objects.filter(ends_on__isnull=False)
                .values_list("pk", "ends_on", "school_id")]
    # A notice version is superseded on the day the next one is published; the one in force has no
    # successor, so it never goes.
    versions = list(NoticeVersion.objects.order_by("published_on", "id").values_list("pk", "published_on"))
    records += [Record("notice_version", f"notice_version:{pk}", successor_published)
                for (pk, _), (_, successor_published) in zip(versions, versions[1:])]
    # A version of the Terms of Use likewise, once no school's acceptance names it (acceptances go
    # with each client's records).
    terms = list(TermsVersion.objects.order_by("published_on", "id").values_list("pk", "published_on"))
    unaccepted = set(TermsVersion.objects.filter(acceptances__isnull=True).values_list("pk", flat=True))
    records += [Record("terms_version", f"terms_version:{pk}", successor_published)
                for (pk, _), (_, successor_published) in zip(terms, terms[1:]) if pk in unaccepted]
    # The register of recipients: what one person's data went where, 7 years from when it was
    # recorded; a recipient of the vendor's with nothing left in the register, 7 years from its entry.
    # A holding of everyone in a scope (the host's) lasts while the relation does: an operator ends
    # it; a school's own recipients and holdings go with the school's schema.
    records += [record_of("recipient_holding", f"recipient_holding:{pk}", lambda at=at: timezone.localdate(at))
                for pk, at in RecipientHolding.objects.filter(scope=RecipientHolding.Scope.PERSON)
                .values_list("pk", "created_at")]
    records += [record_of("recipient", f"recipient:{pk}", lambda at=at: timezone.localdate(at))
                for pk, at in Recipient.objects.filter(school__isnull=True, holdings__isnull=True)
                .values_list("pk", "created_at")]
    # The erasure ledger outlives every backup that could bring an erased person back: a school's
    # entries go once its schema is dropped and every backup key of it destroyed (its backups are
    # then unreadable), never while a key survives.
    live_keys = set(SchoolDataKey.objects.filter(destroyed_at__isnull=True).values_list("school_id", flat=True))
    # (Only the entries of erasures from the school's own schema: entries of the vendor's own records
    # in public, which public's backups may still hold, are not the school's to let go.)
    for school_id, dropped in (School.objects.filter(schema_dropped_at__isnull=False,
                                                     erasures__schema_name=F("schema_name"))
                               .distinct().values_list("pk", "schema_dropped_at")):
        if school_id not in live_keys:
            records.append(record_of("erasure_ledger", f"erasure_ledger:{school_id}",
                                     lambda dropped=dropped: timezone.localdate(dropped), client_id=school_id))
    return records


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
    # A contact who stopped being the client's contact: 7 years from then or from our last dealing
    # with them, whichever is later (the contract's rule, on the contact's own clock).
    contacts = Contact.objects.filter(ended_on__isnull=False)
    if school_id is not None:
        contacts = contacts.filter(school_id=school_id)
    for pk, client, ended, last in contacts.values_list("pk", "school_id", "ended_on", "last_interaction_at"):
        records.append(record_of("contact", f"contact:{pk}",
                                 lambda ended=ended, last=last: max(ended, timezone.localdate(last)) if last else ended,
                                 client_id=client, person=f"contact:{pk}"))
    if school_id is None:
        for prospect_id, last in Prospect.objects.values_list("pk", "last_interaction_at"):
            records.append(record_of("prospect", f"prospect:{prospect_id}", lambda last=last: timezone.localdate(last),
                                     person=f"prospect:{prospect_id}"))
        for partition, month in visit_partitions():
            records.append(record_of("visit_partition", partition, lambda month=month: _month_end(month)))
        # One unit per UTC day of entries, due 365 days after that day.
        records += [Record("change_log", f"change_log:{day.isoformat()}", day)
                    for day in _utc_days(ChangeLogEntry.objects.all(), "occurred_at")]
        records += [Record("support_log", f"support_log:{day.isoformat()}", day)
                    for day in _utc_days(SupportAccessLog.objects.all(), "occurred_at")]
        records += [Record("mail_log", f"mail_log:{day.isoformat()}", day)
                    for day in _utc_days(OutgoingMessage.objects.all(), "created_at")]
        records += [record_of("mail_preference", f"mail_preference:{pk}", lambda at=at: timezone.localdate(at))
                    for pk, at in MailPreference.objects.values_list("pk", "changed_at")]
        records += _default_units_collect()
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
