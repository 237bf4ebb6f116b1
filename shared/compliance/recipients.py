"""The register of recipients: who outside the vendor (or a school) received personal data, and
whose, so that a correction or an erasure reaches them too. The privacy notice promises it: "We
will take reasonable steps to communicate the change to any third parties to whom we have passed
the same information" and "We will communicate the erasure to any third parties to whom we have
passed the same information".

People are named by keys, the convention of ``LegalHold.person`` and of retention's collectors:
the vendor's own records ``contact:<id>``, ``prospect:<id>``, ``client_account:<id>``,
``operator:<id>``; a school's ``pupil:<school_id>:<id>``, ``parent:<school_id>:<id>``,
``user:<school_id>:<id>``. A recipient that holds everyone of a scope (the host) has one holding
for the scope (all of the vendor's records, all of one school's data, all of every school's)
rather than one a person.

The API (keyword-only; each write validates first, writes in one transaction, change-logs field
names; a refusal is a ValidationError that writes nothing):

- ``recipient_tasks_open(actor=, request=, person=, fields=())``: for a correction or erasure
  ``request`` (a vendor ``SubjectRequest``, or a school's ``SchoolRequest`` with the connection in
  that school's schema), open one task per recipient holding ``person``'s data (the corrected
  ``fields`` by name; none for an erasure). Returns the tasks (an open task for the same request,
  person and recipient gains the fields rather than a twin). The tasks and their resolution are
  ``shared.privacy.requests.recipient_tasks``; the request cannot close while one is open.
- ``recipients_holding(person)``: [(recipient, [holdings])] for a person key.
- ``recipient_add(...)``, ``holding_add(...)``: the register's writes (a school's own recipients
  carry ``school`` and hold only that school's people); ``disclosures.disclosure_record`` adds
  holdings for the people of a disclosure.
- ``recipient_list(school=)``, ``access_recipient(recipient_id, school=)``: reads, scoped to the
  vendor's register (``school=None``) or one school's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from shared.changes import Action, Actor
from shared.compliance.models import Disclosure, Recipient, RecipientHolding
from shared.dates import PAST
from shared.privacy.models import RecipientTask, SubjectRequest
from shared.privacy.requests.recipient_tasks import change_log_public, recipient_task_open
from shared.schools.models import School
from shared.schools.selectors import school_current

Scope = RecipientHolding.Scope
VENDOR_KINDS = ("contact", "prospect", "client_account", "operator")
SCHOOL_KINDS = ("pupil", "parent", "user")
_VENDOR_KEY = re.compile(rf"^({'|'.join(VENDOR_KINDS)}):([1-9][0-9]{{0,17}})$")
_SCHOOL_KEY = re.compile(rf"^({'|'.join(SCHOOL_KINDS)}):([1-9][0-9]{{0,17}}):([1-9][0-9]{{0,17}})$")
KEY_HELP = ("contact:<id>, prospect:<id>, client_account:<id>, operator:<id>, or a school's "
            "pupil:<school id>:<id>, parent:<school id>:<id>, user:<school id>:<id>")



def person_key_parse(key: str) -> tuple[str, int | None]:
    """(kind, school id or None for the vendor's own records) of a person key, or ValidationError."""
    key = (key or "").strip()
    if match := _VENDOR_KEY.match(key):
        return match.group(1), None
    if match := _SCHOOL_KEY.match(key):
        return match.group(1), int(match.group(2))
    raise ValidationError({"person": f"Name the person by a key: {KEY_HELP}."})


def _vendor_person_exists(kind: str, pk: int) -> bool:
    from shared.clients.models import ClientAccount, Contact
    from shared.marketing.models import Prospect
    from shared.operators.models import Operator

    model = {"contact": Contact, "prospect": Prospect, "client_account": ClientAccount, "operator": Operator}[kind]
    return model.objects.filter(pk=pk).exists()


# --- Reads ---------------------------------------------------------------------------------------


def recipient_list(*, school: School | None = None) -> QuerySet[Recipient]:
    """The vendor's register (``school=None``), or one school's own."""
    return Recipient.objects.filter(school=school).prefetch_related("holdings")


def access_recipient(recipient_id, *, school: School | None = None) -> Recipient:
    """A recipient of the vendor's register (or of ``school``'s), by an id from a request: Http404 otherwise."""
    return get_object_or_404(Recipient, pk=recipient_id if str(recipient_id).isdigit() else 0, school=school)


def _holdings_of(person: str) -> QuerySet[RecipientHolding]:
    kind, school_id = person_key_parse(person)
    if school_id is None:
        # The vendor's own records: only the vendor's recipients hold them.
        return RecipientHolding.objects.filter(Q(person=person) | Q(scope=Scope.VENDOR), recipient__school=None)
    return RecipientHolding.objects.filter(
        Q(person=person) | Q(scope=Scope.SCHOOL, school_id=school_id) | Q(scope=Scope.EVERY_SCHOOL),
        Q(recipient__school=None) | Q(recipient__school_id=school_id))


def recipients_holding(person: str) -> list[tuple[Recipient, list[RecipientHolding]]]:
    """Every recipient holding ``person``'s data (by name, or as everyone of a scope), with what
    each received; a school's person only among the vendor's recipients and that school's own."""
    grouped: dict[int, tuple[Recipient, list[RecipientHolding]]] = {}
    for holding in _holdings_of(person).select_related("recipient").order_by("recipient__name", "recipient_id", "id"):
        grouped.setdefault(holding.recipient_id, (holding.recipient, []))[1].append(holding)
    return list(grouped.values())


# --- Tasks ---------------------------------------------------------------------------------------


@transaction.atomic
def recipient_tasks_open(*, actor: Actor, request, person: str, fields: Sequence[str] = ()) -> list[RecipientTask]:
    """Open one task per recipient holding ``person``'s data, for a correction (of ``fields``, by
    name) or an erasure ``request``. The request cannot close until each is done or closed with a
    reason. A school's request: call it inside the school's schema, for one of its people."""
    kind = request.kind
    if kind not in (SubjectRequest.Kind.CORRECTION, SubjectRequest.Kind.ERASURE):
        raise ValidationError("Recipients are told of corrections and erasures only.")
    _, school_id = person_key_parse(person)
    if not isinstance(request, SubjectRequest) and school_id != school_current().pk:
        raise ValidationError("A school's request opens tasks for that school's people only.")
    if kind == SubjectRequest.Kind.CORRECTION and not fields:
        return []  # nothing changed: nothing to tell
    tasks = []
    for recipient, holdings in recipients_holding(person):
        held = "; ".join(dict.fromkeys(holding.what for holding in holdings))
        reach = "\n".join(part for part in (recipient.contact, recipient.how_to_reach) if part)
        task, _ = recipient_task_open(actor=actor, request=request, person=person.strip(), asked=kind,
                                      fields=list(fields) if kind == SubjectRequest.Kind.CORRECTION else [],
                                      recipient_id=recipient.pk, recipient_name=recipient.name,
                                      recipient_reach=reach, held=held[:5000])
        tasks.append(task)
    return tasks


# --- Writes --------------------------------------------------------------------------------------


@transaction.atomic
def recipient_add(*, actor: Actor, name: str, kind: str, how_to_reach: str, contact: str = "",
                  school: School | None = None) -> Recipient:
    """Add a recipient to the vendor's register, or (``school``) to a school's own."""
    data = {"name": (name or "").strip(), "contact": (contact or "").strip(), "how_to_reach": (how_to_reach or "").strip()}
    errors = {field: "Required." for field in ("name", "how_to_reach") if not data[field]}
    if kind not in Recipient.Kind.values:
        errors["kind"] = "Choose what kind of recipient this is."
    if errors:
        raise ValidationError(errors)
    recipient = Recipient(**data, kind=kind, school=school, recorded_by_id=actor.user_id)
    recipient.full_clean()
    recipient.save()
    change_log_public(actor=actor, instance=recipient, action=Action.CREATE,
                      fields=["kind", *[name for name, value in data.items() if value], *(["school"] if school else [])])
    return recipient


def _holding_check(recipient: Recipient, scope: str, person: str, school: School | None) -> School | None:
    """The school the holding is about (or None), once it fits the recipient; ValidationError otherwise."""
    if scope not in Scope.values:
        raise ValidationError({"scope": "Choose whose data they hold."})
    if scope == Scope.PERSON:
        kind, school_id = person_key_parse(person)
        pk = int(person.rsplit(":", 1)[1])
        if school_id is None:
            if recipient.school_id is not None:
                raise ValidationError({"person": "A school's recipient holds that school's people only."})
            if not _vendor_person_exists(kind, pk):
                raise ValidationError({"person": f"No {kind.replace('_', ' ')} #{pk} in the vendor's records."})
            return None
        if recipient.school_id is not None and school_id != recipient.school_id:
            raise ValidationError({"person": "A school's recipient holds that school's people only."})
        found = School.objects.filter(pk=school_id, schema_dropped_at__isnull=True).first()
        if found is None:
            raise ValidationError({"person": f"No school #{school_id} holds data here."})
        return found
    if person:
        raise ValidationError({"person": "A holding of everyone names no one person."})
    if recipient.school_id is not None and scope != Scope.SCHOOL:
        raise ValidationError({"scope": "A school's recipient holds that school's people only."})
    if scope == Scope.SCHOOL:
        school = school or recipient.school
        if school is None:
            raise ValidationError({"school": "Name the school whose data they hold."})
        if recipient.school_id is not None and school.pk != recipient.school_id:
            raise ValidationError({"school": "A school's recipient holds that school's people only."})
        return school
    return None


@transaction.atomic
def holding_add(*, actor: Actor, recipient: Recipient, what: str, scope: str = Scope.PERSON, person: str = "",
                school: School | None = None, received_on: dt.date | None = None,
                disclosure: Disclosure | None = None) -> RecipientHolding:
    """Record what ``recipient`` received and whose it was: one person by key, or everyone of a scope."""
    person, what = (person or "").strip(), (what or "").strip()
    if not what:
        raise ValidationError({"what": "Say what they received."})
    school = _holding_check(recipient, scope, person, school)
    PAST.check(received_on, field="received_on")
    if disclosure is not None and recipient.school_id is not None:
        raise ValidationError({"disclosure": "A school's recipient is not in the vendor's disclosure register."})
    holding = RecipientHolding(recipient=recipient, scope=scope, person=person, school=school, what=what,
                               received_on=received_on, disclosure=disclosure, recorded_by_id=actor.user_id)
    holding.full_clean()
    holding.save()
    change_log_public(actor=actor, instance=holding, action=Action.CREATE,
                      fields=["recipient", "scope", "what"] + [name for name in ("person", "school", "received_on",
                                                                                 "disclosure")
                                                              if getattr(holding, name) not in (None, "")])
    return holding
