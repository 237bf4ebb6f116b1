"""Data subjects' requests: their states and their ICO deadlines. Every change is change-logged.
No request closes while a recipient is still to be told of its correction or erasure
(``recipient_tasks``).
Handing a request about a school's data over to that school is ``orchestration.requests``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

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
PauseReason = SubjectRequest.PauseReason
FeeReason = SubjectRequest.FeeReason
# What the person sends that restarts the month from its receipt (the ICO); anything else stops the clock.
RESTARTS_CLOCK = (PauseReason.IDENTITY, PauseReason.FEE)
MAX_FEE = Decimal("999999.99")
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
    """The last day to answer (``shared.privacy.requests.deadlines``): from receipt, or from the day a
    requested proof of identity or fee arrived; plus the days stopped for clarification. While a
    proof of identity or a fee is awaited nothing is due: the day it would be if it arrived today."""
    today = today or clock.today()
    if request.paused_since is not None and request.pause_reason in RESTARTS_CLOCK:
        return response_deadline(received_on=request.received_on, started_on=max(today, request.received_on),
                                 extension_months=request.extension_months)
    paused = request.paused_days
    if request.paused_since is not None:
        paused += (today - request.paused_since).days
    return response_deadline(received_on=request.received_on, started_on=request.clock_started_on,
                             paused_days=paused, extension_months=request.extension_months)


def _move(actor: Actor, request: SubjectRequest, state: str, fields: list[str], today: dt.date) -> SubjectRequest:
    if state not in TRANSITIONS[request.state]:
        raise ValidationError(f"A request that is {request.get_state_display().lower()} cannot become "
                              f"{State(state).label.lower()}.")
    if state in CLOSED_STATES:
        # Every recipient of a corrected or erased person's data told first (or the reason they are not).
        recipient_tasks_block_close(request)
    if request.paused_since is not None and state != State.AWAITING_IDENTITY:
        if request.pause_reason in RESTARTS_CLOCK:
            if state == State.IN_PROGRESS:  # it arrived today: a full month from today
                request.clock_started_on, request.paused_days = today, 0
                fields += ["clock_started_on"]
        else:
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
                    received_on: dt.date | None = None, email_verified_on: dt.date | None = None,
                    submission_ref: str | None = None) -> SubjectRequest:
    """Record a request that reached the vendor. From the public request page it carries the day its
    address was confirmed and the submission's reference (one request per submission)."""
    if kind not in SubjectRequest.Kind.values:
        raise ValidationError({"kind": "Choose which right the request is about."})
    PAST.check(received_on, field="received_on")
    request = SubjectRequest(kind=kind, requester_name=requester_name.strip(), requester_email=requester_email.strip(),
                             details=details.strip(), received_on=received_on or clock.today(),
                             email_verified_on=email_verified_on, submission_ref=submission_ref)
    if submission_ref is not None and SubjectRequest.objects.filter(submission_ref=submission_ref).exists():
        raise ValidationError("This request has been confirmed already: it was received once, and nothing more was "
                              "recorded.")
    request.full_clean()
    request.save()
    change_log_record(actor=actor, instance=request, action=Action.CREATE,
                      fields=["kind", "requester_name", "received_on"] + (["requester_email"] if requester_email else [])
                      + (["email_verified_on", "submission_ref"] if submission_ref else []))
    return request


def _fee_check(request: SubjectRequest, fee_reason: str, fee_amount) -> Decimal:
    if fee_reason not in FeeReason.values:
        raise ValidationError({"fee_reason": "Access is free: a fee may be asked only for a manifestly unfounded or "
                                             "excessive request, or for further copies. Record which."})
    if fee_reason == FeeReason.FURTHER_COPIES and request.kind != SubjectRequest.Kind.ACCESS:
        raise ValidationError({"fee_reason": "A fee for further copies is asked only on a repeat access request."})
    try:
        amount = Decimal(str(fee_amount).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"fee_amount": "Give the fee as an amount in pounds, e.g. 10.00."}) from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_FEE or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"fee_amount": "Give the fee as an amount in pounds and pence, more than nothing."})
    return amount


@transaction.atomic
def request_await(*, actor: Actor, request: SubjectRequest, reason: str, fee_reason: str = "", fee_amount=None,
                  today: dt.date | None = None) -> SubjectRequest:
    """Wait for something from the person: proof of identity or a fee (the month restarts when it
    arrives), or clarification (the clock stops meanwhile). A fee needs its ground (manifestly
    unfounded, excessive, or further copies of an access request) and its amount."""
    today = today or clock.today()
    if reason not in PauseReason.values:
        raise ValidationError({"pause_reason": "Say what the request waits for: proof of identity, clarification or a fee."})
    fields = ["paused_since", "pause_reason"]
    if reason == PauseReason.FEE:
        amount = _fee_check(request, fee_reason, fee_amount)
        request.fee_reason, request.fee_amount = fee_reason, amount
        fields += ["fee_reason", "fee_amount"]
    elif fee_reason or fee_amount not in (None, ""):
        raise ValidationError({"fee_reason": "A fee's ground and amount go only with asking for a fee."})
    if State.AWAITING_IDENTITY not in TRANSITIONS[request.state]:
        raise ValidationError(f"A request that is {request.get_state_display().lower()} cannot wait for anything now.")
    request.paused_since, request.pause_reason = today, reason
    return _move(actor, request, State.AWAITING_IDENTITY, fields, today)


def request_await_identity(*, actor: Actor, request: SubjectRequest, today: dt.date | None = None) -> SubjectRequest:
    """Wait for proof of identity: the month restarts on the day it arrives."""
    return request_await(actor=actor, request=request, reason=PauseReason.IDENTITY, today=today)


@transaction.atomic
def request_start(*, actor: Actor, request: SubjectRequest, today: dt.date | None = None) -> SubjectRequest:
    return _move(actor, request, State.IN_PROGRESS, [], today or clock.today())


@transaction.atomic
def request_extend(*, actor: Actor, request: SubjectRequest, months: int, reason: str, told_on: dt.date,
                   today: dt.date | None = None) -> SubjectRequest:
    """Extend by up to two further months, recording why and when the person was told. The person
    must be told within the first month (the ICO: "within one month of receiving their request"),
    counted as the deadline is without the extension (from the day a requested identity proof or fee
    arrived, plus any days stopped for clarification): a later extension is refused."""
    today = today or clock.today()
    if not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise ValidationError({"months": f"An extension is 1 to {MAX_EXTENSION_MONTHS} further months."})
    if not reason.strip():
        raise ValidationError({"reason": "Record why the request needs longer."})
    PAST.check(told_on, field="told_on")
    first_month = first_month_end(request, today=today)
    if told_on > first_month:
        raise ValidationError({"told_on": f"The first month ended on {first_month:%-d %B %Y}: an extension must be "
                                          "told to the person within the first month of the request, so it is too "
                                          "late to extend now."})
    request.extension_months, request.extension_reason, request.extension_told_on = months, reason.strip(), told_on
    return _move(actor, request, State.EXTENDED, ["extension_months", "extension_reason", "extension_told_on"], today)


def first_month_end(request, *, today: dt.date | None = None) -> dt.date:
    """The last day of the request's first month (its deadline without any extension): an extension
    must be told to the person by then."""
    today = today or clock.today()
    paused = request.paused_days + ((today - request.paused_since).days if request.paused_since else 0)
    return response_deadline(received_on=request.received_on, started_on=request.clock_started_on,
                             paused_days=paused)


@transaction.atomic
def request_identity_confirm(*, actor: Actor, request, today: dt.date | None = None):
    """The person followed the identity link mailed to their address: their identity is confirmed
    and the address verified, and the month restarts from today (``deadlines``: the clock runs from
    the day the requested proof arrives). Only a request waiting for proof of identity takes it."""
    today = today or clock.today()
    if request.state != State.AWAITING_IDENTITY or request.pause_reason != PauseReason.IDENTITY:
        raise ValidationError("This request is not waiting for proof of identity: the link has been used already "
                              "or is no longer needed.")
    request.email_verified_on = today
    return _move(actor, request, State.IN_PROGRESS, ["email_verified_on"], today)


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
