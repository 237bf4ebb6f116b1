"""Data subjects' requests: states, the ICO clock (with pauses and extensions), refusals with
reasons, hand-over to the school, and flagging what is overdue or near due."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from orchestration import requests as handover
from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.changes import Actor
from shared.operators.models import Operator
from shared.privacy.models import SubjectRequest
from shared.privacy.requests import services as r

pytestmark = pytest.mark.django_db
D = dt.date
# The day these tests stand on: every request below was received by then, as requests must be.
TODAY = dt.datetime(2027, 2, 26, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: TODAY)


@pytest.fixture
def actor() -> Actor:
    return Actor.operator(Operator.objects.get(role=Operator.Role.DPO).user)


@pytest.fixture
def access_request(actor) -> SubjectRequest:
    return r.request_receive(actor=actor, kind="access", requester_name="Ann Person", requester_email="ann@example.org",
                             received_on=D(2027, 1, 31))


def test_each_right_is_its_own_request_type():
    # and a complaint or a question sent from the public request page is answered the same way
    assert set(SubjectRequest.Kind.values) == {"access", "correction", "erasure", "restriction", "portability",
                                               "objection", "consent_withdrawal", "complaint", "question"}


def test_the_deadline_follows_the_ico_rule(access_request):
    assert r.request_deadline(access_request, today=D(2027, 2, 1)) == D(2027, 3, 1)  # 28 Feb 2027 is a Sunday


def test_the_month_restarts_when_the_proof_of_identity_arrives(actor, access_request):
    r.request_await_identity(actor=actor, request=access_request, today=D(2027, 2, 5))
    # while waiting nothing is due: the month it would have if the proof arrived that day
    assert r.request_deadline(access_request, today=D(2027, 2, 15)) == D(2027, 3, 15)

    r.request_start(actor=actor, request=access_request, today=D(2027, 2, 19))

    access_request.refresh_from_db()
    assert access_request.clock_started_on == D(2027, 2, 19) and access_request.paused_since is None
    assert access_request.pause_reason == "identity" and access_request.paused_days == 0
    assert r.request_deadline(access_request, today=D(2027, 3, 1)) == D(2027, 3, 19)


def test_an_extension_records_its_reason_and_when_the_person_was_told(actor, access_request):
    r.request_extend(actor=actor, request=access_request, months=2, reason="Several requests at once",
                     told_on=D(2027, 2, 10))

    access_request.refresh_from_db()
    assert (access_request.state, access_request.extension_told_on) == ("extended", D(2027, 2, 10))
    assert r.request_deadline(access_request) == D(2027, 4, 30)
    with pytest.raises(ValidationError):
        r.request_extend(actor=actor, request=access_request, months=3, reason="x", told_on=D(2027, 2, 10))


def test_a_refusal_needs_a_reason_and_a_refused_request_stays_refused(actor, access_request):
    with pytest.raises(ValidationError, match="gives the person its reason"):
        r.request_refuse(actor=actor, request=access_request, reason="  ")
    access_request.refresh_from_db()
    assert access_request.state == "received"

    r.request_refuse(actor=actor, request=access_request, reason="We hold no data about you.")
    with pytest.raises(ValidationError, match="cannot become"):
        r.request_complete(actor=actor, request=access_request)


def test_a_request_about_pupil_data_is_handed_over_to_the_school(actor, access_request, oakfield):
    handover.request_forward_to_school(actor=actor, request=access_request, school=oakfield.school, today=D(2027, 2, 2))

    access_request.refresh_from_db()
    assert (access_request.state, access_request.school_id, access_request.forwarded_on) == (
        "forwarded", oakfield.school.pk, D(2027, 2, 2))
    assert ChangeLogEntry.objects.filter(object_type="privacy.subjectrequest", object_id=str(access_request.pk),
                                         fields__contains=["forwarded_on"]).exists()


def test_overdue_and_near_due_requests_are_flagged(actor):
    overdue = r.request_receive(actor=actor, kind="erasure", requester_name="Old", received_on=D(2027, 1, 4))
    near = r.request_receive(actor=actor, kind="objection", requester_name="Soon", received_on=D(2027, 2, 1))
    later = r.request_receive(actor=actor, kind="correction", requester_name="Later", received_on=D(2027, 2, 25))

    late, soon = r.requests_due(today=D(2027, 2, 26))

    assert [q for q, _ in late] == [overdue] and [q for q, _ in soon] == [near]
    assert later not in [q for q, _ in late + soon]
