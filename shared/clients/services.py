"""Writes on client records. Each service validates first, writes in one transaction, and records
what it changed in the change log (field names only). Bad input raises ValidationError, keyed by
field where there is one, and writes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.clients.models import (
    ClientAccount,
    Complaint,
    Contact,
    ContactConsent,
    Contract,
    Correspondence,
    CorrespondenceAttachment,
    OptionalMail,
    vendor_files,
)
from shared.dates import PAST, PLANNED
from shared.files import DOCUMENT_TYPES_TEXT, document_type
from shared.schools.models import School

CREATE, UPDATE = Action.CREATE, Action.UPDATE
CONFIG_FILES_KEPT_MONTHS = 3
SCHEMA_KEPT_MONTHS = 6
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def _dates_check(starts_on: dt.date, ends_on: dt.date | None) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": "The contract cannot end before it starts."})


def _fields_of(data: Mapping) -> list[str]:
    return [name for name, value in data.items() if value not in (None, "")]


# --- Onboarding ----------------------------------------------------------------------------------


def client_contract_dates_check(*, starts_on: dt.date, ends_on: dt.date | None) -> None:
    """A new contract's dates, or ValidationError naming the field."""
    PLANNED.check(starts_on, field="contract_starts_on")
    PLANNED.check(ends_on, field="contract_ends_on")
    _dates_check(starts_on, ends_on)


def client_records_create(*, actor: Actor, school: School, admin_email: str, contract_starts_on: dt.date,
                          contract_ends_on: dt.date | None = None, contact_name: str = "", contact_role: str = "",
                          contact_email: str = "", contact_phone: str = "") -> Contract:
    """The vendor's records of a school just provisioned (``orchestration.provisioning.client_onboard``):
    the school's change-log entry, its contract, its first log-in account and its main contact."""
    change_log_record(actor=actor, instance=school, action=CREATE, fields=["name", "schema_name", "status"])
    contract = Contract.objects.create(school=school, starts_on=contract_starts_on, ends_on=contract_ends_on,
                                       status=Contract.Status.ACTIVE)
    change_log_record(actor=actor, instance=contract, action=CREATE, fields=["school", "starts_on", "ends_on", "status"])
    account = ClientAccount.objects.create(school=school, email=admin_email)
    change_log_record(actor=actor, instance=account, action=CREATE, fields=["school", "email"])
    if contact_name:
        contact_create(actor=actor, school=school, full_name=contact_name, role=contact_role,
                       email=contact_email, phone=contact_phone, is_primary=True)
    return contract


# --- Contracts -----------------------------------------------------------------------------------


@transaction.atomic
def contract_cancel(*, actor: Actor, contract: Contract, cancelled_on: dt.date, reason: str = "") -> Contract:
    """Record a contract's cancellation. Nothing is deleted: the dates on which the school's
    configuration files (3 months on) and its schema (6 months on) are due to go are set for the
    retention workers, counted from the cancellation date. The school's site closes on that date:
    now, if it has come; otherwise ``schools_close_on_cancellation`` closes it on the day."""
    PLANNED.check(cancelled_on, field="cancelled_on")
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status not in (Contract.Status.ACTIVE, Contract.Status.NOTICE_GIVEN):
        raise ValidationError(f"Only an active contract can be cancelled; this one is {contract.get_status_display().lower()}.")
    if cancelled_on < contract.starts_on:
        raise ValidationError({"cancelled_on": "The cancellation date cannot be before the contract starts."})
    contract.status = Contract.Status.CANCELLED
    contract.cancelled_on = cancelled_on
    contract.cancellation_reason = reason.strip()
    contract.config_files_delete_on = clock.add_months(cancelled_on, CONFIG_FILES_KEPT_MONTHS)
    contract.schema_drop_on = clock.add_months(cancelled_on, SCHEMA_KEPT_MONTHS)
    fields = ["status", "cancelled_on", "cancellation_reason", "config_files_delete_on", "schema_drop_on"]
    contract.save(update_fields=fields)
    change_log_record(actor=actor, instance=contract, action=UPDATE, fields=fields)
    if cancelled_on <= clock.today():
        _school_status_set(actor=actor, school=contract.school, status=School.Status.CANCELLED)
    return contract


def schools_close_on_cancellation(*, today: dt.date | None = None) -> int:
    """Close the site of every school whose cancellation, recorded ahead of its date, takes effect
    by ``today`` (daily, just after midnight). Returns how many were closed."""
    today = today or clock.today()
    closed = 0
    due = (Contract.objects.filter(status=Contract.Status.CANCELLED, cancelled_on__lte=today,
                                   school__status=School.Status.ACTIVE).select_related("school").order_by("pk"))
    for contract in due:
        with transaction.atomic():
            _school_status_set(actor=Actor.system(), school=contract.school, status=School.Status.CANCELLED)
        closed += 1
    return closed


def contract_cancellation_undoable(contract: Contract, *, today: dt.date | None = None) -> bool:
    """A cancellation can be undone until the contract's end date (or, for a rolling contract,
    until the school's schema is due to be dropped)."""
    today = today or clock.today()
    if contract.status != Contract.Status.CANCELLED:
        return False
    deadline = contract.ends_on or contract.schema_drop_on
    return deadline is None or today <= deadline


@transaction.atomic
def contract_cancellation_undo(*, actor: Actor, contract: Contract, today: dt.date | None = None) -> Contract:
    """Take a cancellation back before the end date: the contract is active again and the
    retention dates are cleared."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if not contract_cancellation_undoable(contract, today=today):
        raise ValidationError("This cancellation can no longer be undone: the contract's end date has passed.")
    contract.status = Contract.Status.ACTIVE
    contract.cancelled_on = contract.config_files_delete_on = contract.schema_drop_on = None
    contract.cancellation_reason = ""
    fields = ["status", "cancelled_on", "cancellation_reason", "config_files_delete_on", "schema_drop_on"]
    contract.save(update_fields=fields)
    change_log_record(actor=actor, instance=contract, action=UPDATE, fields=fields)
    _school_status_set(actor=actor, school=contract.school, status=School.Status.ACTIVE)
    return contract


def _school_status_set(*, actor: Actor, school: School, status: str) -> None:
    school.status = status
    school.cancelled_at = clock.now() if status == School.Status.CANCELLED else None
    school.save(update_fields=["status", "cancelled_at"])
    change_log_record(actor=actor, instance=school, action=UPDATE, fields=["status", "cancelled_at"])


def contracts_last_used_bump(last_used: Mapping[str, dt.date]) -> int:
    """Move each school's current contract's "last used" date forward to the given day (by schema
    name), never back. One UPDATE per school; used by the visit-log flush."""
    updated = 0
    for schema_name, day in last_used.items():
        updated += Contract.objects.filter(
            school__schema_name=schema_name,
            status__in=[Contract.Status.ACTIVE, Contract.Status.NOTICE_GIVEN, Contract.Status.CANCELLED],
        ).update(last_used_on=Greatest(Coalesce(F("last_used_on"), Value(day)), Value(day)))
    return updated


# --- Contacts, accounts, correspondence, complaints ---------------------------------------------


@transaction.atomic
def contact_create(*, actor: Actor, school: School, full_name: str, role: str = "", email: str = "",
                   phone: str = "", address: str = "", is_primary: bool = False) -> Contact:
    if not full_name.strip():
        raise ValidationError({"full_name": "A contact needs a name."})
    data = {"full_name": full_name.strip(), "role": role.strip(), "email": email.strip().lower(),
            "phone": phone.strip(), "address": address.strip(), "is_primary": is_primary}
    contact = Contact(school=school, **data)
    contact.full_clean()
    contact.save()
    change_log_record(actor=actor, instance=contact, action=CREATE, fields=["school", *_fields_of(data)])
    return contact


@transaction.atomic
def contact_update(*, actor: Actor, contact: Contact, **changes) -> Contact:
    allowed = {"full_name", "role", "email", "phone", "address", "is_primary"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
    before = Contact.objects.get(pk=contact.pk)
    for name, value in changes.items():
        setattr(contact, name, value.strip() if isinstance(value, str) else value)
    contact.full_clean()
    fields = [name for name in changes if getattr(before, name) != getattr(contact, name)]
    if fields:
        contact.save(update_fields=fields)
        change_log_record(actor=actor, instance=contact, action=UPDATE, fields=fields)
    return contact


@transaction.atomic
def contact_end(*, actor: Actor, contact: Contact, ended_on: dt.date | None = None) -> Contact:
    """Record that this person stopped being the school's contact (the school replaced them, say)
    on ``ended_on`` (today by default). From then their details, and the correspondence with them,
    run on their own 7-year clock (``orchestration.retention``). Refused for a contact already
    ended, for the main contact (make another the main contact first: a school always keeps
    one), and for a date in the future or before the contact was recorded."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    ended_on = ended_on or clock.today()
    if contact.ended_on is not None:
        raise ValidationError(f"{contact.full_name} stopped being a contact on {contact.ended_on:%d %B %Y}.")
    if contact.is_primary:
        raise ValidationError(f"{contact.full_name} is the main contact: make another contact the main one first.")
    PAST.check(ended_on, field="ended_on")
    if ended_on < timezone.localdate(contact.created_at):
        raise ValidationError({"ended_on": "A contact cannot end before they were recorded."})
    contact.ended_on = ended_on
    contact.save(update_fields=["ended_on"])
    change_log_record(actor=actor, instance=contact, action=UPDATE, fields=["ended_on"])
    return contact


def correspondence_record(*, actor: Actor, school: School, direction: str, channel: str, subject: str,
                          body: str = "", contact: Contact | None = None, occurred_at: dt.datetime | None = None,
                          attachments: Sequence[UploadedFile] = ()) -> Correspondence:
    """Record a letter, email, call or meeting with its attachments, and keep the contact's
    last-interaction date. Every attachment is checked (size, and type by its content) before
    anything is written; files written for a record that then fails to save are removed again."""
    if contact is not None and contact.school_id != school.pk:
        raise ValidationError({"contact": "That contact belongs to another school."})
    types = []
    for upload in attachments:
        if upload.size > MAX_ATTACHMENT_BYTES:
            raise ValidationError({"attachments": f"{upload.name} is larger than {MAX_ATTACHMENT_BYTES // 1048576} MB."})
        types.append(document_type(upload))
        if types[-1] is None:
            raise ValidationError({"attachments": f"{upload.name} is not a type we keep: attach {DOCUMENT_TYPES_TEXT}."})
    written: list[str] = []
    try:
        return _correspondence_save(actor=actor, school=school, contact=contact, attachments=list(zip(attachments, types)),
                                    written=written, direction=direction, channel=channel, subject=subject, body=body,
                                    occurred_at=occurred_at)
    except BaseException:
        for name in written:
            vendor_files.delete(name)
        raise


@transaction.atomic
def _correspondence_save(*, actor: Actor, school: School, contact: Contact | None, attachments, written: list[str],
                         direction: str, channel: str, subject: str, body: str,
                         occurred_at: dt.datetime | None) -> Correspondence:
    item = Correspondence(school=school, contact=contact, direction=direction, channel=channel,
                          subject=subject.strip(), body=body.strip(), occurred_at=occurred_at or clock.now(),
                          recorded_by_id=actor.user_id)
    item.full_clean()
    item.save()
    for upload, content_type in attachments:
        attachment = CorrespondenceAttachment(correspondence=item, name=upload.name[:255], size=upload.size,
                                              content_type=content_type)
        attachment.file.save(upload.name, upload, save=False)
        written.append(attachment.file.name)
        attachment.save()
    change_log_record(actor=actor, instance=item, action=CREATE,
                      fields=["school", "direction", "channel", "subject", "occurred_at"]
                      + (["contact"] if contact else []) + (["body"] if item.body else []))
    if contact is not None and (contact.last_interaction_at is None or contact.last_interaction_at < item.occurred_at):
        contact.last_interaction_at = item.occurred_at
        contact.save(update_fields=["last_interaction_at"])
        change_log_record(actor=actor, instance=contact, action=UPDATE, fields=["last_interaction_at"])
    return item


def attachment_files_destroy(*, school_id: int, contact_id: int | None = None) -> int:
    """Delete the files of every correspondence attachment of the client, or only of its
    correspondence with one contact (``contact_id``); their rows stay, for the caller to delete
    with the correspondence. The client's folder goes once empty. Returns how many files there were."""
    attachments = CorrespondenceAttachment.objects.filter(correspondence__school_id=school_id)
    if contact_id is not None:
        attachments = attachments.filter(correspondence__contact_id=contact_id)
    names = list(attachments.exclude(file="").values_list("file", flat=True))
    for name in names:
        vendor_files.delete(name)
    folder = Path(vendor_files.location) / "correspondence" / str(school_id)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    return len(names)


@transaction.atomic
def complaint_record(*, actor: Actor, school: School, summary: str, details: str = "",
                     kind: str = Complaint.Kind.COMPLAINT, contact: Contact | None = None,
                     received_at: dt.datetime | None = None) -> Complaint:
    if contact is not None and contact.school_id != school.pk:
        raise ValidationError({"contact": "That contact belongs to another school."})
    complaint = Complaint(school=school, contact=contact, kind=kind, summary=summary.strip(),
                          details=details.strip(), received_at=received_at or clock.now())
    complaint.full_clean()
    complaint.save()
    change_log_record(actor=actor, instance=complaint, action=CREATE,
                      fields=["school", "kind", "summary", "received_at", "status"] + (["details"] if details else []))
    return complaint


@transaction.atomic
def complaint_status_set(*, actor: Actor, complaint: Complaint, status: str, resolution: str = "") -> Complaint:
    """Move a complaint on. Resolving or closing one needs a resolution."""
    if status not in Complaint.Status.values:
        raise ValidationError({"status": "Unknown status."})
    closing = status in (Complaint.Status.RESOLVED, Complaint.Status.CLOSED)
    if closing and not (resolution.strip() or complaint.resolution):
        raise ValidationError({"resolution": "Say how the complaint was resolved."})
    complaint.status = status
    fields = ["status"]
    if resolution.strip():
        complaint.resolution = resolution.strip()
        fields.append("resolution")
    complaint.resolved_at = clock.now() if closing else None
    fields.append("resolved_at")
    complaint.save(update_fields=fields)
    change_log_record(actor=actor, instance=complaint, action=UPDATE, fields=fields)
    return complaint


# --- Consent to optional communications ----------------------------------------------------------


def _how(how: str, *, field: str, required: bool) -> str:
    how = " ".join(how.split())
    if required and not how:
        raise ValidationError({field: "Say how: what they said or ticked, and where (it is the evidence)."})
    if len(how) > ContactConsent._meta.get_field(field).max_length:
        raise ValidationError({field: "Keep it under 300 characters."})
    return how


@transaction.atomic
def contact_consent_give(*, actor: Actor, contact: Contact, purpose: str, how: str) -> ContactConsent:
    """Record a contact's consent to one kind of optional communication, from now. Refused when the
    purpose is not one of ``OptionalMail`` or a consent to it is in force already."""
    if purpose not in OptionalMail.values:
        raise ValidationError({"purpose": "Choose one of the optional communications."})
    how = _how(how, field="given_how", required=True)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    current = ContactConsent.objects.filter(contact=contact, purpose=purpose, withdrawn_at__isnull=True).first()
    if current is not None:
        raise ValidationError({"purpose": f"{contact.full_name} consented to {current.get_purpose_display().lower()} "
                                          f"on {current.given_at:%d %B %Y} already."})
    consent = ContactConsent.objects.create(contact=contact, purpose=purpose, given_at=clock.now(), given_how=how,
                                            recorded_by_id=actor.user_id)
    change_log_record(actor=actor, instance=consent, action=CREATE,
                      fields=["contact", "purpose", "given_at", "given_how", "recorded_by_id"])
    return consent


@transaction.atomic
def contact_consent_withdraw(*, actor: Actor, contact: Contact, purpose: str, how: str = "") -> ContactConsent:
    """Withdraw a contact's consent to one kind of optional communication, from this moment: every
    mailing list built from now on leaves them out (``selectors.contacts_for_optional_mail``).
    Refused when no consent to it is in force."""
    how = _how(how, field="withdrawn_how", required=False)
    consent = (ContactConsent.objects.select_for_update()
               .filter(contact=contact, purpose=purpose, withdrawn_at__isnull=True).first())
    if consent is None:
        raise ValidationError({"purpose": f"{contact.full_name} has no consent to that in force: nothing to withdraw."})
    consent.withdrawn_at, consent.withdrawn_how = clock.now(), how
    consent.save(update_fields=["withdrawn_at", "withdrawn_how"])
    change_log_record(actor=actor, instance=consent, action=UPDATE, fields=["withdrawn_at", "withdrawn_how"])
    return consent
