"""The vendor's answers to requests about its own records (it is the controller of them): naming
whom a request is about (a client contact, a client's log-in account, a prospect, an operator),
then correcting, restricting or erasing that person's records.

The rules are the school tools' (``tenants.rights.services``): a tool refuses, changing nothing,
when it does not fit the request's kind or state or the person; everything it does is change-logged
by field name; an erasure writes the erasure ledger first, in the same transaction, so that a restore
of public followed by ``manage.py erasure_replay --public`` erases the person again. Each tool is a
plain function returning what it changed, for a caller to act on (telling recipients, say)."""

from __future__ import annotations

import re

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models import Q
from django.db.models.deletion import Collector

from shared import clock
from shared.audit.services import account_activity_anonymise, change_log_record, change_log_record_many
from shared.changes import Action, Actor
from shared.clients.models import (
    ClientAccount,
    Complaint,
    Contact,
    Correspondence,
    CorrespondenceAttachment,
    vendor_files,
)
from shared.mail.services import messages_to_address_erase
from shared.marketing.models import Prospect
from shared.operators.models import Operator
from shared.privacy.models import LegalHold, SubjectRequest
from shared.privacy.requests.ledger import vendor_ledger_record

Kind = SubjectRequest.Kind
State = SubjectRequest.State
SUBJECT_FIELD = {Contact: "subject_contact", ClientAccount: "subject_account", Prospect: "subject_prospect",
                 Operator: "subject_operator"}
# How a person of the vendor's is named (the key of legal holds and of the register of recipients).
SUBJECT_KEY = {Contact: "contact", ClientAccount: "client_account", Prospect: "prospect", Operator: "operator"}
# A person's own personal fields, the only ones a correction may touch (an operator's are on its account).
CORRECTABLE = {Contact: ["full_name", "role", "email", "phone", "address"],
               ClientAccount: ["full_name", "email"],
               Prospect: ["full_name", "role", "email", "phone"],
               Operator: ["full_name", "email"]}
RESTRICTABLE = (Contact, Prospect)
# Who recorded something: an erased operator's id is cleared from these (the records stay).
RECORDED_BY = (("clients.Correspondence", "recorded_by_id"), ("marketing.ProspectInteraction", "recorded_by_id"),
               ("compliance.Breach", "recorded_by_id"), ("compliance.BreachNotification", "recorded_by_id"),
               ("compliance.Disclosure", "recorded_by_id"), ("compliance.NoticeVersion", "published_by_id"))


def subject_reference(subject) -> str:
    """``contact:12``, ``client_account:3``, ``prospect:7``, ``operator:2``: how a person is named
    (the keys of legal holds and of ``shared.compliance.recipients``)."""
    return f"{SUBJECT_KEY[type(subject)]}:{subject.pk}"


# A reference as people write it: "contact:12" (the form's own), "Contact 12", "contact #12", "log-in account 3".
_REFERENCE = re.compile(r"^\s*(contact|client[ _-]?account|log-in account|login account|prospect|operator)\s*(?::|#|\s)\s*#?(\d{1,18})\s*$",
                        re.IGNORECASE)
_REFERENCE_KINDS = {"contact": "contact", "prospect": "prospect", "operator": "operator"}


def subject_from_reference(reference: str):
    """The record a reference names ("contact:12", or as its page shows it, "Contact 12"), or a
    ValidationError saying why not."""
    match = _REFERENCE.match(reference or "")
    models = {key: model for model, key in SUBJECT_KEY.items()}
    if match is None:
        raise ValidationError({"subject": "Choose a contact, log-in account, prospect or operator, or name one "
                                          "with its number (for example Contact 12)."})
    word, raw_id = match.group(1).lower(), match.group(2)
    kind = _REFERENCE_KINDS.get(word, "client_account")
    subject = models[kind].objects.filter(pk=int(raw_id)).first()
    if subject is None:
        noun = "log-in account" if kind == "client_account" else kind
        raise ValidationError({"subject": f"No {noun} {raw_id} in the vendor's records."})
    return subject


def subject_label(subject) -> str:
    if isinstance(subject, Contact):
        return f"Contact {subject.full_name} ({subject.school})"[:120]
    if isinstance(subject, ClientAccount):
        return f"Log-in account {subject.email} ({subject.school})"[:120]
    if isinstance(subject, Prospect):
        return f"Prospect {subject}"[:120]
    return f"Operator {subject.user.email}"[:120]


@transaction.atomic
def vendor_subject_identify(*, actor: Actor, request: SubjectRequest, subject) -> SubjectRequest:
    """Name whom a request about the vendor's own records is about."""
    if type(subject) not in SUBJECT_FIELD:
        raise ValidationError({"subject": "Choose the contact, log-in account, prospect or operator the request is about."})
    if request.state not in SubjectRequest.OPEN_STATES:
        raise ValidationError("Only an open request can be about someone new.")
    for name in SUBJECT_FIELD.values():
        setattr(request, name, None)
    setattr(request, SUBJECT_FIELD[type(subject)], subject)
    request.subject_label = subject_label(subject)
    fields = [*SUBJECT_FIELD.values(), "subject_label"]
    request.save(update_fields=fields)
    change_log_record(actor=actor, instance=request, action=Action.UPDATE, fields=fields)
    return request


def _open_request(request: SubjectRequest, *kinds: str):
    if request.kind not in kinds:
        raise ValidationError(f"This is {request.get_kind_display().lower()} request: that tool does not answer it.")
    if request.state not in (State.IN_PROGRESS, State.EXTENDED):
        raise ValidationError("Only a request in progress can be answered (confirm the person's identity first).")
    subject = request.subject()
    if subject is None:
        raise ValidationError("The request names nobody whose records the vendor still holds: identify the person first.")
    return subject


@transaction.atomic
def vendor_subject_correct(*, actor: Actor, request: SubjectRequest, changes: dict) -> list[str]:
    """Correct the person's own fields through the model's checks; returns the fields changed
    (change-logged by name). Anything else, or an invalid value, is refused and nothing is written."""
    subject = _open_request(request, Kind.CORRECTION)
    allowed = CORRECTABLE[type(subject)]
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ValidationError(f"These cannot be corrected here: {', '.join(unknown)}.")
    record = subject.user if isinstance(subject, Operator) else subject
    record = type(record).objects.select_for_update().get(pk=record.pk)
    clean = {}
    for name, value in changes.items():
        if not isinstance(value, str):
            raise ValidationError({name: "Give the corrected value as text."})
        clean[name] = value.strip().lower() if name == "email" else value.strip()
    changed = [name for name, value in clean.items() if getattr(record, name) != value]
    for name in changed:
        setattr(record, name, clean[name])
    record.full_clean()
    if changed:
        record.save(update_fields=changed)
        change_log_record(actor=actor, instance=record, action=Action.UPDATE, fields=changed)
        if record is not subject and hasattr(subject, "user"):
            subject.user = record
    return changed


@transaction.atomic
def vendor_subject_restrict(*, actor: Actor, request: SubjectRequest, on: bool = True) -> list[str]:
    """Restriction: the record stays, flagged so that nothing automated uses it (no marketing to a
    prospect, no mailing to a contact). Returns the fields changed."""
    subject = _open_request(request, Kind.RESTRICTION)
    if not isinstance(subject, RESTRICTABLE):
        raise ValidationError("Restriction applies to contact and prospect records: a log-in or operator account "
                              "is used only to sign in; close it, or erase it on an erasure request.")
    if subject.processing_restricted == on:
        return []
    subject.processing_restricted = on
    subject.save(update_fields=["processing_restricted"])
    change_log_record(actor=actor, instance=subject, action=Action.UPDATE, fields=["processing_restricted"])
    return ["processing_restricted"]


def _hold_check(subject) -> None:
    today = clock.today()
    active = LegalHold.objects.filter(Q(ends_on=None) | Q(ends_on__gte=today), starts_on__lte=today)
    school_id = getattr(subject, "school_id", None)
    covered = active.filter(person=subject_reference(subject))
    if school_id is not None:
        covered = covered | active.filter(school_id=school_id)
    hold = covered.first()
    if hold is not None:
        raise ValidationError(f"A legal hold covers these records ({hold.reason}): nothing it covers may be erased "
                              "until it is lifted. Refuse the request with that reason, or wait.")


def _operator_check(actor: Actor, operator: Operator) -> None:
    if operator.user_id == actor.user_id:
        raise ValidationError("You cannot erase your own account: ask another administrator.")
    if (operator.role == Operator.Role.ADMINISTRATOR
            and not Operator.objects.filter(role=Operator.Role.ADMINISTRATOR).exclude(pk=operator.pk).exists()):
        raise ValidationError("This is the last administrator's account: give another operator that role first.")
    if operator.support_requests.exists() or operator.support_log.exists():
        raise ValidationError("This operator's support access to schools is part of the schools' accountability records, "
                              "kept for their own period: the account can be erased once those are.")


def attachment_files_delete(correspondence_ids) -> int:
    """Delete the files of the attachments of these correspondence records (their rows go with the
    correspondence). Returns how many files there were."""
    names = list(CorrespondenceAttachment.objects.filter(correspondence_id__in=list(correspondence_ids))
                 .exclude(file="").values_list("file", flat=True))
    for name in names:
        vendor_files.delete(name)
    return len(names)


def operator_traces_clear(*, actor: Actor | None, user_id: int) -> int:
    """An erased operator's account no longer names who recorded what: the ids are cleared, the
    records stay. Returns the rows changed."""
    total = 0
    for label, field in RECORDED_BY:
        model = apps.get_model(label)
        ids = list(model.objects.filter(**{field: user_id}).values_list("pk", flat=True))
        if ids:
            model.objects.filter(pk__in=ids).update(**{field: None})
            if actor is not None:
                change_log_record_many(actor=actor, object_type=model._meta.label_lower,
                                       changes=[(pk, Action.UPDATE, [field]) for pk in ids])
            total += len(ids)
    return total


def account_sessions_end(user_id: int) -> int:
    """End every console session of the account (in public): a session holds the user id, and an
    erased account must leave none behind, not even an expired one waiting for the daily purge."""
    ended = [session.pk for session in Session.objects.all()
             if session.get_decoded().get("_auth_user_id") == str(user_id)]
    return Session.objects.filter(pk__in=ended).delete()[0]


def _in_public(model) -> bool:
    return model._meta.app_config.name in settings.SHARED_APPS


class _PublicCollector(Collector):
    """Django's deletion collector, blind to the relations of school-only tables (a school user's
    groups, say): the project's user model is migrated into public and every school, but those
    tables exist only in the schools, and an operator's account in public has no rows there."""

    def related_objects(self, related_model, related_fields, objs):
        queryset = super().related_objects(related_model, related_fields, objs)
        return queryset if _in_public(related_model) else queryset.none()


def public_delete(record) -> dict[str, int]:
    """Delete a public record and what cascades from it in public. Returns rows per model label."""
    collector = _PublicCollector(using=router.db_for_write(type(record)), origin=record)
    collector.collect([record])
    return collector.delete()[1]


def _records_of(subject) -> list:
    """The rows an erasure deletes, the person's own first; what cascades from them goes with them."""
    if isinstance(subject, Contact):
        return ([subject] + list(Correspondence.objects.filter(contact=subject).order_by("pk"))
                + list(Complaint.objects.filter(contact=subject).order_by("pk")))
    if isinstance(subject, Operator):
        return [subject.user]
    return [subject]


@transaction.atomic
def vendor_subject_erase(*, actor: Actor, request: SubjectRequest) -> dict[str, int]:
    """Erase the person's records: a contact with the correspondence (attachment files first) and
    complaints about them, a client's log-in account, a prospect with their interactions, or an
    operator's account (its technical records anonymised, its id cleared from what it recorded).
    The ledger is written first, in this transaction. Returns the rows deleted or anonymised by
    model label. The request stays open, for the operator to mark answered."""
    subject = _open_request(request, Kind.ERASURE)
    if isinstance(subject, Operator):
        _operator_check(actor, subject)
    _hold_check(subject)
    records = _records_of(subject)
    ref = f"vendor-request:{request.pk}"
    for record in records:
        vendor_ledger_record(instance=record, request_ref=ref)
        change_log_record(actor=actor, instance=record, action=Action.DELETE)
    counts: dict[str, int] = {}
    files = attachment_files_delete(r.pk for r in records if isinstance(r, Correspondence))
    if files:
        counts["files"] = files
    if isinstance(subject, Operator):
        user_id = subject.user_id
        counts["technical"] = account_activity_anonymise(schema_name="public", user_id=user_id)
        counts["recorded_by"] = operator_traces_clear(actor=actor, user_id=user_id)
        counts["sessions"] = account_sessions_end(user_id)
    address = subject.user.email if isinstance(subject, Operator) else getattr(subject, "email", "")
    for record in records:
        for label, n in public_delete(record).items():
            if n:
                counts[label] = counts.get(label, 0) + n
    if mailed := messages_to_address_erase(address):
        counts["mail.OutgoingMessage"] = mailed
    return counts


def vendor_candidates(email: str) -> list:
    """The vendor's records a request's email address finds, as identification choices."""
    email = (email or "").strip()
    if not email:
        return []
    user_model = get_user_model()
    operators = Operator.objects.filter(user__in=user_model.objects.filter(email__iexact=email)).select_related("user")
    return [*Contact.objects.filter(email__iexact=email).select_related("school"),
            *ClientAccount.objects.filter(email__iexact=email).select_related("school"),
            *Prospect.objects.filter(email__iexact=email), *operators]

