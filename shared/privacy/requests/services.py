"""Data subjects' requests: their states and their ICO deadlines. Every change is change-logged.
No request closes while a recipient is still to be told of its correction or erasure
(``recipient_tasks``).
Handing a request about a school's data over to that school is ``orchestration.requests``."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.dates import PAST
from shared.privacy.models import SubjectRequest
from shared.privacy.requests.deadlines import MAX_EXTENSION_MONTHS, response_deadline
from shared.privacy.requests.recipient_tasks import recipient_tasks_block_close
from shared.schools.models import School

State = SubjectRequest.State
NEAR_DUE_DAYS = 7
CLOSED_STATES = (State.COMPLETED, State.REFUSED, State.FORWARDED)
# Which state may follow which.
TRANSITIONS = {
    State.RECEIVED: {State.AWAITING_IDENTITY, State.IN_PROGRESS, State.EXTENDED, State.COMPLETED, State.REFUSED, State.FORWARDED},
    State.AWAITING_IDENTITY: {State.IN_PROGRESS, State.REFUSED},
    State.IN_PROGRESS: {State.AWAITING_IDENTITY, State.EXTENDED, State.COMPLETED, State.REFUSED},
    State.EXTENDED: {State.COMPLETED, State.REFUSED},
    State.COMPLETED: set(), State.REFUSED: set(), State.FORWARDED: set(),
}


def request_deadline(request: SubjectRequest, *, today: dt.date | None = None) -> dt.date:
    """The last day to answer, with the clock stopped while waiting for identity (so far)."""
    paused = request.paused_days
    if request.paused_since is not None:
        paused += ((today or clock.today()) - request.paused_since).days
    return response_deadline(received_on=request.received_on, paused_days=paused,
                             extension_months=request.extension_months)


def _move(actor: Actor, request: SubjectRequest, state: str, fields: list[str], today: dt.date) -> SubjectRequest:
    if state not in TRANSITIONS[request.state]:
        raise ValidationError(f"A request that is {request.get_state_display().lower()} cannot become "
                              f"{State(state).label.lower()}.")
    if state in CLOSED_STATES:
        # Every recipient of a corrected or erased person's data told first (or the reason they are not).
        recipient_tasks_block_close(request)
    if request.paused_since is not None and state != State.AWAITING_IDENTITY:
        request.paused_days += (today - request.paused_since).days
        request.paused_since = None
        fields += ["paused_days", "paused_since"]
    request.state = state
    if state in CLOSED_STATES:
        request.closed_on = today
        fields.append("closed_on")
    request.save(update_fields=["state", *fields])
    change_log_record(actor=actor, instance=request, action=Action.UPDATE, fields=["state", *fields])
    return request


@transaction.atomic
def request_receive(*, actor: Actor, kind: str, requester_name: str, requester_email: str = "", details: str = "",
                    received_on: dt.date | None = None) -> SubjectRequest:
    if kind not in SubjectRequest.Kind.values:
        raise ValidationError({"kind": "Choose which right the request is about."})
    PAST.check(received_on, field="received_on")
    request = SubjectRequest(kind=kind, requester_name=requester_name.strip(), requester_email=requester_email.strip(),
                             details=details.strip(), received_on=received_on or clock.today())
    request.full_clean()
    request.save()
    change_log_record(actor=actor, instance=request, action=Action.CREATE,
                      fields=["kind", "requester_name", "received_on"] + (["requester_email"] if requester_email else []))
    return request


@transaction.atomic
def request_await_identity(*, actor: Actor, request: SubjectRequest, today: dt.date | None = None) -> SubjectRequest:
    """Stop the clock until the person proves who they are or clarifies the request."""
    today = today or clock.today()
    request.paused_since = today
    return _move(actor, request, State.AWAITING_IDENTITY, ["paused_since"], today)


@transaction.atomic
def request_start(*, actor: Actor, request: SubjectRequest, today: dt.date | None = None) -> SubjectRequest:
    return _move(actor, request, State.IN_PROGRESS, [], today or clock.today())


@transaction.atomic
def request_extend(*, actor: Actor, request: SubjectRequest, months: int, reason: str, told_on: dt.date,
                   today: dt.date | None = None) -> SubjectRequest:
    """Extend by up to two further months, recording why and when the person was told."""
    if not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise ValidationError({"months": f"An extension is 1 to {MAX_EXTENSION_MONTHS} further months."})
    if not reason.strip():
        raise ValidationError({"reason": "Record why the request needs longer."})
    PAST.check(told_on, field="told_on")
    request.extension_months, request.extension_reason, request.extension_told_on = months, reason.strip(), told_on
    return _move(actor, request, State.EXTENDED, ["extension_months", "extension_reason", "extension_told_on"],
                 today or clock.today())


@transaction.atomic
def request_complete(*, actor: Actor, request: SubjectRequest, today: dt.date | None = None) -> SubjectRequest:
    return _move(actor, request, State.COMPLETED, [], today or clock.today())


@transaction.atomic
def request_refuse(*, actor: Actor, request: SubjectRequest, reason: str, today: dt.date | None = None) -> SubjectRequest:
    if not reason.strip():
        raise ValidationError({"reason": "A refusal gives the person its reason."})
    request.refusal_reason = reason.strip()
    return _move(actor, request, State.REFUSED, ["refusal_reason"], today or clock.today())


def request_mark_forwarded(*, actor: Actor, request: SubjectRequest, school: School, today: dt.date) -> SubjectRequest:
    """The vendor's side of handing a request over to ``school`` (``orchestration.requests`` writes the
    school's side in the same transaction)."""
    request.school, request.forwarded_on = school, today
    return _move(actor, request, State.FORWARDED, ["school", "forwarded_on"], today)


def requests_due(*, requests: QuerySet | None = None, today: dt.date | None = None,
                 within_days: int = NEAR_DUE_DAYS) -> tuple[list, list]:
    """Open requests past their deadline, and those due within ``within_days``: (overdue, near).
    The vendor's by default; pass a school's ``SchoolRequest`` queryset for the school's."""
    today = today or clock.today()
    overdue, near = [], []
    requests = SubjectRequest.objects.all() if requests is None else requests
    for request in requests.filter(state__in=SubjectRequest.OPEN_STATES):
        deadline = request_deadline(request, today=today)
        if deadline < today:
            overdue.append((request, deadline))
        elif (deadline - today).days <= within_days:
            near.append((request, deadline))
    return overdue, near


def open_requests() -> QuerySet[SubjectRequest]:
    return SubjectRequest.objects.filter(state__in=SubjectRequest.OPEN_STATES)
