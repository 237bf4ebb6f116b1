"""Deleting one retention unit, one function per unit kind (``DELETERS``). Each runs inside the
transaction that also writes the unit's deletion record, and returns the records it deleted, or
that and further fields of the deletion record.

``DELETION_PATHS`` says, for each kind, which registered models its deleter removes: this app's
``ready()`` declares them to ``shared.privacy.retention.paths``, whose system check (privacy.E005)
fails when a model holding personal data has no way out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import connection
from django.db.models import Q
from django_tenants.utils import schema_context
from psycopg2 import sql

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.billing.models import CreditNote, Invoice, InvoiceLine, Payment
from shared.clients.models import ClientAccount, Complaint, Contact, Contract, Correspondence
from shared.clients.services import attachment_files_destroy
from shared.compliance.models import (
    Breach,
    Disclosure,
    NoticeVersion,
    Recipient,
    RecipientHolding,
    TermsAcceptance,
    TermsVersion,
)
from shared.mail.models import MailPreference, OutgoingMessage
from shared.marketing.models import Prospect
from shared.pg_tools import execute
from shared.privacy.models import ErasureLedgerEntry, LegalHold, RecipientTask, SubjectRequest
from shared.schools.models import Domain, School
from shared.support.models import SupportAccessLog, SupportAccessRequest


def _delete_tax_record(unit: str, as_of: dt.date) -> int:
    invoice_id = int(unit.split(":")[1])
    counts = [model.objects.filter(invoice_id=invoice_id).delete()[0] for model in (Payment, CreditNote, InvoiceLine)]
    return sum(counts) + Invoice.objects.filter(pk=invoice_id).delete()[0]


def _delete_client_records(unit: str, as_of: dt.date) -> int:
    """The client's correspondence (its attachments' files first, as for the school's configuration
    files: a failed unit leaves rows naming missing files, which the rerun deletes, never files no
    row names), complaints, contacts and accounts, and its acceptances of the Terms of Use."""
    school_id = int(unit.split(":")[1])
    attachment_files_destroy(school_id=school_id)
    total = 0
    for model in (Correspondence, Complaint, Contact, ClientAccount, TermsAcceptance):
        total += model.objects.filter(school_id=school_id).delete()[0]
    # Support access: the log of each grant (any left), then the grants the school decided on.
    # (also an attempt at another school that named one of this school's grants)
    total += SupportAccessLog.objects.filter(Q(school_id=school_id) | Q(grant__school_id=school_id)).delete()[0]
    total += SupportAccessRequest.objects.filter(school_id=school_id).delete()[0]
    # The contract rows stay (the school's dates); the one free-text field that may name someone goes.
    total += Contract.objects.filter(school_id=school_id).exclude(cancellation_reason="").update(cancellation_reason="")
    return total


def _delete_contact(unit: str, as_of: dt.date) -> int:
    """A contact who stopped being the client's contact, with the correspondence with them (the
    attachments' files first, as for the whole client). Complaints they made stay with the
    client's records, on the contract's clock, with the link to them cleared (the complaint is
    the school's; the contact's own details go with the contact)."""
    contact = Contact.objects.filter(pk=int(unit.split(":")[1])).first()
    if contact is None:
        return 0
    attachment_files_destroy(school_id=contact.school_id, contact_id=contact.pk)
    total = Correspondence.objects.filter(contact=contact).delete()[0]
    Complaint.objects.filter(contact=contact).update(contact=None)
    return total + Contact.objects.filter(pk=contact.pk).delete()[0]


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


def _utc_day_bounds(unit: str) -> tuple[dt.datetime, dt.datetime]:
    day = dt.date.fromisoformat(unit.split(":", 1)[1])
    start = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
    return start, start + dt.timedelta(days=1)


def _delete_change_log_day(unit: str, as_of: dt.date) -> int:
    """One UTC day of the change log (``change_log:2026-01-01``), due 365 days after it."""
    start, end = _utc_day_bounds(unit)
    return ChangeLogEntry.objects.filter(occurred_at__gte=start, occurred_at__lt=end).delete()[0]


def _delete_support_log_day(unit: str, as_of: dt.date) -> int:
    """One UTC day of the support-access log, as the change log."""
    start, end = _utc_day_bounds(unit)
    return SupportAccessLog.objects.filter(occurred_at__gte=start, occurred_at__lt=end).delete()[0]


def _delete_mail_log_day(unit: str, as_of: dt.date) -> int:
    """One UTC day of outgoing mail (``mail_log:2026-01-01``), by when each message was made."""
    start, end = _utc_day_bounds(unit)
    return OutgoingMessage.objects.filter(created_at__gte=start, created_at__lt=end).delete()[0]


def _delete_by_id(model) -> Callable[[str, dt.date], int]:
    """A deleter of one row of ``model`` named ``<kind>:<id>`` (and what cascades from it)."""
    def delete(unit: str, as_of: dt.date) -> int:
        return model.objects.filter(pk=int(unit.rsplit(":", 1)[1])).delete()[0]
    delete.__name__ = f"_delete_{model._meta.model_name}"
    return delete


def _delete_notice_version(unit: str, as_of: dt.date) -> int:
    """A superseded version of the notice; never the one in force (checked again here, in case
    the versions changed since the plan)."""
    version = NoticeVersion.objects.filter(pk=int(unit.split(":")[1])).first()
    newest = NoticeVersion.objects.order_by("-published_on", "-id").first()
    if version is None or version.pk == newest.pk:
        return 0
    return NoticeVersion.objects.filter(pk=version.pk).delete()[0]


def _delete_terms_version(unit: str, as_of: dt.date) -> int:
    """A superseded version of the Terms of Use that no acceptance names (checked again here)."""
    version = TermsVersion.objects.filter(pk=int(unit.split(":")[1])).first()
    newest = TermsVersion.objects.order_by("-published_on", "-id").first()
    if version is None or version.pk == newest.pk or version.acceptances.exists():
        return 0
    return TermsVersion.objects.filter(pk=version.pk).delete()[0]


def _delete_recipient(unit: str, as_of: dt.date) -> int:
    """A recipient of the vendor's with nothing left in the register (checked again here)."""
    return Recipient.objects.filter(pk=int(unit.split(":")[1]), school__isnull=True,
                                    holdings__isnull=True).delete()[0]


def _delete_erasure_ledger(unit: str, as_of: dt.date) -> int:
    """The ledger of a school's erasures from its own schema, once no backup can be read: checked
    again here (a key made since the plan keeps it)."""
    from shared.backups.models import SchoolDataKey

    school = School.objects.get(pk=int(unit.split(":")[1]))
    if school.schema_dropped_at is None or SchoolDataKey.objects.filter(school=school, destroyed_at__isnull=True).exists():
        return 0
    return ErasureLedgerEntry.objects.filter(school=school, schema_name=school.schema_name).delete()[0]


def _delete_school_request(unit: str, as_of: dt.date) -> int:
    """A school's closed request, in its schema, with its export links (their files first), and in
    public the tasks that told its recipients."""
    from tenants.rights.models import ExportLink, SchoolRequest
    from tenants.rights.services import export_files_destroy

    _, school_id, _, request_id = unit.split(":")
    school = School.objects.get(pk=int(school_id))
    if school.schema_dropped_at is not None:
        return 0
    with schema_context(school.schema_name):
        export_files_destroy(ExportLink.objects.filter(request_id=int(request_id)))
        deleted = SchoolRequest.objects.filter(pk=int(request_id)).delete()[0]
    return deleted + RecipientTask.objects.filter(school=school, school_request_id=int(request_id)).delete()[0]


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
    # The public records about the school's own data: the tasks telling recipients of its requests'
    # corrections and erasures, and the school's recipients with what they hold of its people.
    register = RecipientTask.objects.filter(school=school).delete()[0]
    register += RecipientHolding.objects.filter(school=school).delete()[0]
    register += Recipient.objects.filter(school=school).delete()[0]
    school_folder_destroy(school.schema_name)  # any files a hold on the configuration kept
    school.schema_dropped_at = clock.now()
    school.save(update_fields=["schema_dropped_at"])
    keys = data_keys_destroy(school=school)
    return tables + domains + register, {"backup_keys_destroyed": keys}


# Each returns the records it deleted, or that and further fields of the deletion record.
DELETERS: dict[str, Callable[[str, dt.date], int | tuple[int, dict]]] = {
    "tax_record": _delete_tax_record,
    "client_records": _delete_client_records,
    "prospect": _delete_prospect,
    "visit_partition": _drop_visit_partition,
    "change_log": _delete_change_log_day,
    "support_log": _delete_support_log_day,
    "mail_log": _delete_mail_log_day,
    "mail_preference": _delete_by_id(MailPreference),
    "contact": _delete_contact,
    "school_configuration": _delete_school_configuration,
    "school_database": _drop_school_schema,
    "pupil": _delete_pupil,
    "subject_request": _delete_by_id(SubjectRequest),
    "school_request": _delete_school_request,
    "breach": _delete_by_id(Breach),  # its notifications and links to schools go with it
    "disclosure": _delete_by_id(Disclosure),
    "legal_hold": _delete_by_id(LegalHold),
    "notice_version": _delete_notice_version,
    "terms_version": _delete_terms_version,
    "recipient_holding": _delete_by_id(RecipientHolding),
    "recipient": _delete_recipient,
    "erasure_ledger": _delete_erasure_ledger,
}


# Which registered models each kind of unit's deleter removes (``DELETERS``), for the
# deletion-path check; the models a cascade takes with them are named too.
DELETION_PATHS: dict[str, tuple[str, ...]] = {
    "tax_record": ("billing.Invoice", "billing.InvoiceLine", "billing.Payment", "billing.CreditNote"),
    # (of the contract, only its free-text cancellation reason goes: the row keeps the school's dates)
    "client_records": ("clients.Contract", "clients.Contact", "clients.ClientAccount", "clients.Correspondence",
                       "clients.CorrespondenceAttachment", "clients.Complaint", "clients.ContactConsent",
                       "compliance.TermsAcceptance", "support.SupportAccessRequest"),
    "contact": ("clients.Contact", "clients.ContactConsent", "clients.Correspondence", "clients.CorrespondenceAttachment"),
    "prospect": ("marketing.Prospect", "marketing.ProspectConsent", "marketing.ProspectInteraction"),
    "visit_partition": ("technical.Visit",),
    "change_log": ("technical.ChangeLogEntry",),
    "support_log": ("support.SupportAccessLog",),
    "mail_log": ("mail.OutgoingMessage",),
    "mail_preference": ("mail.MailPreference",),
    "school_configuration": ("configuration.SchoolDocument",),
    # the whole schema: every model of the school's own apps, and its users
    "school_database": ("users.User", "pupils.Pupil", "pupils.ParentCarer", "pupils.PupilParent", "pupils.Group",
                        "assessment.Result", "assessment.Target", "assessment.AssessmentPoint", "configuration.SchoolDocument",
                        "rights.SchoolRequest", "rights.ExportLink", "rights.Consent", "sessions.Session",
                        "privacy.RecipientTask", "compliance.RecipientHolding", "compliance.Recipient"),
    "pupil": ("pupils.Pupil", "pupils.ParentCarer", "pupils.PupilParent", "assessment.Result", "assessment.Target",
              "rights.Consent"),
    "subject_request": ("privacy.SubjectRequest", "privacy.RecipientTask", "privacy.VendorExportLink"),
    "school_request": ("rights.SchoolRequest", "rights.ExportLink", "privacy.RecipientTask"),
    "breach": ("compliance.Breach", "compliance.BreachNotification"),
    "disclosure": ("compliance.Disclosure",),
    "legal_hold": ("privacy.LegalHold",),
    "notice_version": ("compliance.NoticeVersion",),
    "terms_version": ("compliance.TermsVersion",),
    "recipient_holding": ("compliance.RecipientHolding",),
    "recipient": ("compliance.Recipient",),
    "erasure_ledger": ("privacy.ErasureLedgerEntry",),
}
