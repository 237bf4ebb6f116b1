"""The ICO clock with its reasons for waiting: proof of identity or a fee restarts the month from the
day it arrives; clarification stops the clock for the days it takes. At the boundary days, through
the state machine that both the vendor's and the schools' requests use; and the fee rules (access
is free; a fee only on a recorded ground, with its amount)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.changes import Actor
from shared.operators.models import Operator
from shared.privacy.models import SubjectRequest
from shared.privacy.requests import services as r
from shared.privacy.requests.deadlines import response_deadline

pytestmark = pytest.mark.django_db
D = dt.date
TODAY = dt.datetime(2028, 6, 30, 12, 0, tzinfo=dt.timezone.utc)  # after every date below


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: TODAY)


@pytest.fixture
def actor() -> Actor:
    return Actor.operator(Operator.objects.get(role=Operator.Role.DPO).user)


def received(actor, on: dt.date, kind: str = "access") -> SubjectRequest:
    return r.request_receive(actor=actor, kind=kind, requester_name="Ann Person", received_on=on)


def due_on(request: SubjectRequest, today: dt.date) -> str:
    overdue, near = r.requests_due(requests=SubjectRequest.objects.filter(pk=request.pk), today=today, within_days=0)
    return "overdue" if overdue else "due today" if near else "not yet"


@pytest.mark.parametrize(("reason", "asked", "arrived", "deadline", "why"), [
    ("identity", D(2027, 2, 5), D(2027, 2, 19), D(2027, 3, 19), "a month from the day the proof arrived (a Friday)"),
    ("identity", D(2028, 1, 3), D(2028, 1, 31), D(2028, 2, 29), "from 31 January 2028: 29 February (leap year)"),
    ("fee", D(2026, 12, 20), D(2026, 12, 30), D(2027, 2, 1), "paid 30 Dec: 30 Jan 2027 is a Saturday -> Monday"),
    ("clarification", D(2027, 3, 20), D(2027, 3, 25), D(2027, 4, 20), "15 April plus the 5 days stopped"),
])
def test_the_month_runs_from_receipt_of_what_was_asked_for(actor, reason, asked, arrived, deadline, why):
    request = received(actor, D(2027, 3, 15) if reason == "clarification" else min(asked, D(2027, 1, 31)))
    if reason == "fee":
        r.request_await(actor=actor, request=request, reason="fee", fee_reason="excessive", fee_amount="25.00", today=asked)
    else:
        r.request_await(actor=actor, request=request, reason=reason, today=asked)
    r.request_start(actor=actor, request=request, today=arrived)
    request.refresh_from_db()

    assert r.request_deadline(request, today=arrived) == deadline, why
    assert due_on(request, deadline) == "due today"  # the boundary day itself is in time
    assert due_on(request, deadline + dt.timedelta(days=1)) == "overdue"
    assert due_on(request, deadline - dt.timedelta(days=1)) == "not yet"


def test_without_the_restart_the_identity_case_would_be_due_from_the_request():
    # the same request with no wait asked: a month from receipt, 31 January -> 1 March 2027
    assert response_deadline(received_on=D(2027, 1, 31)) == D(2027, 3, 1)
    assert response_deadline(received_on=D(2027, 1, 31), started_on=D(2027, 2, 19)) == D(2027, 3, 19)
    with pytest.raises(ValueError, match="before the request was received"):
        response_deadline(received_on=D(2027, 1, 31), started_on=D(2027, 1, 30))


def test_while_proof_or_a_fee_is_awaited_nothing_falls_due(actor):
    request = received(actor, D(2027, 1, 4))
    r.request_await_identity(actor=actor, request=request, today=D(2027, 1, 5))

    assert r.request_deadline(request, today=D(2027, 1, 15)) == D(2027, 2, 15)
    assert due_on(request, D(2027, 9, 1)) == "not yet"  # months later, still waiting: not overdue


def test_while_clarification_is_awaited_the_clock_is_stopped_not_restarted(actor):
    request = received(actor, D(2027, 3, 15))
    r.request_await(actor=actor, request=request, reason="clarification", today=D(2027, 3, 20))

    # three days stopped so far: 15 April + 3 = 18 April 2027, a Sunday -> Monday 19th
    assert r.request_deadline(request, today=D(2027, 3, 23)) == D(2027, 4, 19)


def test_an_extension_counts_from_the_restarted_start(actor):
    request = received(actor, D(2027, 1, 31))
    r.request_await_identity(actor=actor, request=request, today=D(2027, 2, 5))
    r.request_start(actor=actor, request=request, today=D(2027, 2, 19))
    r.request_extend(actor=actor, request=request, months=2, reason="Complex", told_on=D(2027, 2, 20), today=D(2027, 2, 20))

    assert r.request_deadline(request, today=D(2027, 3, 1)) == D(2027, 5, 19)


def test_the_pause_carries_its_reason_and_is_change_logged(actor):
    request = received(actor, D(2027, 1, 4))
    r.request_await(actor=actor, request=request, reason="clarification", today=D(2027, 1, 6))

    request.refresh_from_db()
    assert (request.state, request.pause_reason, request.paused_since) == ("awaiting_identity", "clarification", D(2027, 1, 6))
    entry = ChangeLogEntry.objects.filter(object_type="privacy.subjectrequest", object_id=str(request.pk)).latest("pk")
    assert entry.fields == ["pause_reason", "paused_since", "state"]


def test_asking_for_a_fee_records_its_ground_and_amount(actor):
    request = received(actor, D(2027, 1, 4))

    r.request_await(actor=actor, request=request, reason="fee", fee_reason="further_copies", fee_amount="10.50",
                    today=D(2027, 1, 6))

    request.refresh_from_db()
    assert (request.pause_reason, request.fee_reason, request.fee_amount) == ("fee", "further_copies", Decimal("10.50"))
    entry = ChangeLogEntry.objects.filter(object_type="privacy.subjectrequest", object_id=str(request.pk)).latest("pk")
    assert entry.fields == ["fee_amount", "fee_reason", "pause_reason", "paused_since", "state"]


@pytest.mark.parametrize(("kind", "fee_reason", "fee_amount", "message"), [
    ("access", "", "10.00", "Access is free"),
    ("access", "because", "10.00", "Access is free"),
    ("erasure", "further_copies", "10.00", "only on a repeat access request"),
    ("access", "excessive", "0", "more than nothing"),
    ("access", "excessive", "-5", "more than nothing"),
    ("access", "excessive", "1.005", "pounds and pence"),
    ("access", "excessive", "ten pounds", "amount in pounds"),
    ("access", "excessive", "NaN", "pounds and pence"),
    ("access", "excessive", None, "amount in pounds"),
])
def test_a_fee_without_a_ground_or_a_proper_amount_is_refused_and_changes_nothing(actor, kind, fee_reason, fee_amount,
                                                                                   message):
    request = received(actor, D(2027, 1, 4), kind=kind)
    logged = ChangeLogEntry.objects.count()

    with pytest.raises(ValidationError, match=message):
        r.request_await(actor=actor, request=request, reason="fee", fee_reason=fee_reason, fee_amount=fee_amount,
                        today=D(2027, 1, 6))

    fresh = SubjectRequest.objects.get(pk=request.pk)
    assert (fresh.state, fresh.pause_reason, fresh.fee_reason, fresh.fee_amount, fresh.paused_since) == \
           ("received", "", "", None, None)
    assert ChangeLogEntry.objects.count() == logged


def test_a_fee_ground_without_asking_for_a_fee_and_an_unknown_reason_are_refused(actor):
    request = received(actor, D(2027, 1, 4))
    with pytest.raises(ValidationError, match="go only with asking for a fee"):
        r.request_await(actor=actor, request=request, reason="identity", fee_reason="excessive", today=D(2027, 1, 6))
    with pytest.raises(ValidationError, match="what the request waits for"):
        r.request_await(actor=actor, request=request, reason="patience", today=D(2027, 1, 6))
    assert SubjectRequest.objects.get(pk=request.pk).state == "received"


def test_a_fee_never_paid_ends_in_a_refusal_without_restarting_the_clock(actor):
    request = received(actor, D(2027, 1, 4))
    r.request_await(actor=actor, request=request, reason="fee", fee_reason="unfounded", fee_amount="40", today=D(2027, 1, 6))

    r.request_refuse(actor=actor, request=request, reason="The fee was not paid.", today=D(2027, 3, 1))

    request.refresh_from_db()
    assert (request.state, request.clock_started_on, request.paused_since) == ("refused", None, None)
