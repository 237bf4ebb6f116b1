"""The school's answers to its subject requests. Each tool checks that it fits the request (kind,
state, who it is about) before it writes anything, and everything it does is change-logged. A
correction or an erasure opens a task for each recipient holding the person's data (the register of
recipients, ``shared.compliance.recipients``): the request cannot be completed until each is done or
closed with a reason. ``recipient_holding_add`` records that the school exported or disclosed a
pupil's (or parent's, or user's) data to someone."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.compliance.recipients import access_recipient, holding_add, recipient_add, recipient_tasks_open
from shared.dates import BIRTH, PAST
from shared.privacy.requests.recipient_tasks import recipient_tasks_open_of
from shared.privacy.requests.services import request_complete, request_start
from shared.schools.selectors import school_current
from tenants.configuration.storage import school_files
from tenants.pupils.models import ParentCarer, Pupil
from tenants.rights.access_export import subject_export
from tenants.rights.erasure import erase
from tenants.rights.models import Consent, ExportLink, SchoolRequest
from tenants.users.models import User

Kind = SchoolRequest.Kind
CORRECTABLE = {Pupil: ["forename", "surname", "legal_forename", "legal_surname", "date_of_birth", "gender"],
               ParentCarer: ["title", "forename", "surname", "email", "phone"],
               User: ["full_name", "email"]}


class ExportUnavailable(Exception):
    """The link is unknown, used already, or expired: nothing is handed out."""


def _actor(user: User) -> Actor:
    return Actor.school_user(user, connection.schema_name)


def person_key(subject) -> str:
    """The key naming a pupil, parent or user of this school in public registers (``pupil:<school id>:<id>``)."""
    kind = {Pupil: "pupil", ParentCarer: "parent", User: "user"}[type(subject)]
    return f"{kind}:{school_current().pk}:{subject.pk}"


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _open_request(request: SchoolRequest, *kinds: str):
    if request.kind not in kinds:
        raise ValidationError(f"This is {request.get_kind_display().lower()} request: that tool does not answer it.")
    if request.state not in (SchoolRequest.State.IN_PROGRESS, SchoolRequest.State.EXTENDED):
        raise ValidationError("Only a request in progress can be answered (confirm the person's identity first).")
    subject = request.subject()
    if subject is None:
        raise ValidationError("The request names nobody whose records the school still holds.")
    return subject


@transaction.atomic
def school_request_receive(*, user: User, kind: str, requester_name: str, subject, requester_email: str = "",
                           details: str = "", received_on: dt.date | None = None,
                           vendor_request_id: int | None = None) -> SchoolRequest:
    if kind not in Kind.values:
        raise ValidationError({"kind": "Choose which right the request is about."})
    if not isinstance(subject, (Pupil, ParentCarer, User)):
        raise ValidationError({"subject": "Choose the pupil, parent or user the request is about."})
    PAST.check(received_on, field="received_on")
    request = SchoolRequest(kind=kind, requester_name=requester_name.strip(), requester_email=requester_email.strip(),
                            details=details.strip(), received_on=received_on or clock.today(),
                            subject_label=str(subject)[:120], vendor_request_id=vendor_request_id,
                            **{{Pupil: "pupil", ParentCarer: "parent", User: "user"}[type(subject)]: subject})
    request.full_clean()
    request.save()
    if user is not None:
        change_log_record(actor=_actor(user), instance=request, action=Action.CREATE,
                          fields=["kind", "requester_name", "received_on"])
    return request


@transaction.atomic
def subject_identify(*, user: User, request: SchoolRequest, subject) -> SchoolRequest:
    """Name whom a request (one handed over by the vendor, say) is about."""
    if not isinstance(subject, (Pupil, ParentCarer, User)):
        raise ValidationError({"subject": "Choose the pupil, parent or user the request is about."})
    request.pupil = request.parent = request.user = None
    setattr(request, {Pupil: "pupil", ParentCarer: "parent", User: "user"}[type(subject)], subject)
    request.subject_label = str(subject)[:120]
    request.save(update_fields=["pupil", "parent", "user", "subject_label"])
    change_log_record(actor=_actor(user), instance=request, action=Action.UPDATE,
                      fields=["pupil", "parent", "user", "subject_label"])
    return request


@transaction.atomic
def export_build(*, user: User, request: SchoolRequest) -> tuple[ExportLink, str]:
    """Build the access or portability export and a one-time link to it. Returns the link and its
    token (shown once; only its digest is kept)."""
    subject = _open_request(request, Kind.ACCESS, Kind.PORTABILITY)
    content = subject_export(subject, school_name=school_current().name)
    token = secrets.token_urlsafe(32)
    name = school_files.save(f"{connection.schema_name}/exports/{secrets.token_hex(16)}.zip", ContentFile(content))
    try:
        link = ExportLink.objects.create(request=request, token_digest=_token_digest(token), file=name, size=len(content),
                                         expires_at=clock.now() + dt.timedelta(days=settings.EXPORT_LINK_DAYS))
        change_log_record(actor=_actor(user), instance=link, action=Action.CREATE, fields=["file"])
    except Exception:
        school_files.delete(name)
        raise
    return link, token


def export_download(*, token: str) -> tuple[ExportLink, bytes]:
    """Hand the export out once: the file is deleted as it is read, and the link marked used."""
    with transaction.atomic():
        link = ExportLink.objects.select_for_update().filter(token_digest=_token_digest(token)).first()
        if link is None or link.downloaded_at is not None:
            raise ExportUnavailable("This link has been used already, or never existed.")
        if link.expires_at <= clock.now():
            raise ExportUnavailable("This link has expired. Ask the school for a new export.")
        with school_files.open(link.file, "rb") as handle:
            content = handle.read()
        link.downloaded_at = clock.now()
        link.save(update_fields=["downloaded_at"])
        transaction.on_commit(lambda: school_files.delete(link.file))
    return link, content


def export_files_destroy(links) -> int:
    """Delete the files of these export links (their rows stay, for the caller to delete with
    their request). Returns how many there were."""
    names = list(links.exclude(file="").values_list("file", flat=True))
    for name in names:
        school_files.delete(name)
    return len(names)


def exports_expire() -> int:
    """Delete the files of exports past their expiry (run daily with retention)."""
    expired = ExportLink.objects.filter(downloaded_at=None, expires_at__lte=clock.now())
    for link in expired:
        school_files.delete(link.file)
    return expired.update(downloaded_at=clock.now())


@transaction.atomic
def subject_correct(*, user: User, request: SchoolRequest, changes: dict) -> list[str]:
    """Correct the person's record through the same checks as any edit; change-logged by field."""
    subject = _open_request(request, Kind.CORRECTION)
    allowed = CORRECTABLE[type(subject)]
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ValidationError(f"These cannot be corrected here: {', '.join(unknown)}.")
    if "date_of_birth" in changes:
        BIRTH.check(changes["date_of_birth"], field="date_of_birth")
    changed = [name for name, value in changes.items() if getattr(subject, name) != value]
    for name in changed:
        setattr(subject, name, changes[name])
    subject.full_clean()
    if changed:
        subject.save(update_fields=changed)
        change_log_record(actor=_actor(user), instance=subject, action=Action.UPDATE, fields=changed)
        recipient_tasks_open(actor=_actor(user), request=request, person=person_key(subject), fields=changed)
    return changed


@transaction.atomic
def subject_erase(*, user: User, request: SchoolRequest) -> dict[str, int]:
    """Erase the person. The request is completed at once unless a recipient holds their data: then
    it stays in progress, with a task per recipient, until the admin completes it once each is resolved."""
    subject = _open_request(request, Kind.ERASURE)
    if subject == user:
        raise ValidationError("You cannot erase your own account: ask another administrator.")
    key = person_key(subject)
    counts = erase(actor=_actor(user), school=school_current(), subject=subject, request_ref=f"school-request:{request.pk}")
    request.refresh_from_db()  # its link to the person is cleared now; the label stays
    recipient_tasks_open(actor=_actor(user), request=request, person=key)
    if not recipient_tasks_open_of(request).exists():
        request_complete(actor=_actor(user), request=request)
    return counts


@transaction.atomic
def recipient_holding_add(*, user: User, subject, recipient_name: str, how_to_reach: str, what: str,
                          contact: str = "", recipient_id: int | None = None,
                          received_on: dt.date | None = None):
    """The school exported or disclosed ``subject``'s data to someone: a holding in the school's own
    register of recipients (a recipient it names, new or one of its own), so that a later correction
    or erasure of that person tells them."""
    if not isinstance(subject, (Pupil, ParentCarer, User)):
        raise ValidationError({"subject": "Choose the pupil, parent or user whose data they received."})
    school = school_current()
    actor = _actor(user)
    if recipient_id is not None:
        recipient = access_recipient(recipient_id, school=school)
    else:
        recipient = recipient_add(actor=actor, name=recipient_name, kind="export", how_to_reach=how_to_reach,
                                  contact=contact, school=school)
    return holding_add(actor=actor, recipient=recipient, what=what, person=person_key(subject), received_on=received_on)


@transaction.atomic
def subject_flag(*, user: User, request: SchoolRequest, on: bool = True) -> None:
    """Restriction or objection: the record stays, and no automated process touches it."""
    subject = _open_request(request, Kind.RESTRICTION, Kind.OBJECTION)
    if not isinstance(subject, (Pupil, ParentCarer)):
        raise ValidationError("Restriction and objection apply to pupils' and parents' records.")
    field = "processing_restricted" if request.kind == Kind.RESTRICTION else "processing_objected"
    setattr(subject, field, on)
    subject.save(update_fields=[field])
    change_log_record(actor=_actor(user), instance=subject, action=Action.UPDATE, fields=[field])


@transaction.atomic
def consent_record(*, user: User, purpose: str, pupil: Pupil | None = None, parent: ParentCarer | None = None,
                   given_on: dt.date | None = None) -> Consent:
    if not purpose.strip():
        raise ValidationError({"purpose": "Say what the consent is for."})
    if (pupil is None) == (parent is None):
        raise ValidationError("A consent is given by one pupil or one parent.")
    PAST.check(given_on, field="given_on")
    consent = Consent.objects.create(pupil=pupil, parent=parent, purpose=purpose.strip(),
                                     given_on=given_on or clock.today(), recorded_by=user)
    change_log_record(actor=_actor(user), instance=consent, action=Action.CREATE,
                      fields=["purpose", "given_on"])
    return consent


@transaction.atomic
def consent_withdraw(*, user: User, consent: Consent, on: dt.date | None = None) -> Consent:
    if consent.withdrawn_on is not None:
        raise ValidationError("This consent is withdrawn already.")
    consent.withdrawn_on = on or clock.today()
    consent.save(update_fields=["withdrawn_on"])
    change_log_record(actor=_actor(user), instance=consent, action=Action.UPDATE, fields=["withdrawn_on"])
    return consent


def request_begin(*, user: User, request: SchoolRequest) -> SchoolRequest:
    return request_start(actor=_actor(user), request=request)
