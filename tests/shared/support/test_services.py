"""Support access services: an operator's request, the school admin's approval (which sets the
expiry), refusal and revocation, each checked before anything is written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django_tenants.utils import schema_context

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.schools.models import School
from shared.support import services
from shared.support.models import SupportAccessLog, SupportAccessRequest
from tests.shared.support.helpers import approve, ask, decide, log_rows, school_user, snapshot

pytestmark = pytest.mark.django_db
S = SupportAccessRequest.State
NOW = dt.datetime(2027, 3, 3, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def frozen(monkeypatch):
    """The clock stands at NOW, and ``move(hours)`` moves it."""
    at = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: at["now"])

    def move(hours: float) -> None:
        at["now"] = at["now"] + dt.timedelta(hours=hours)

    return move


def test_an_operator_asks_and_nothing_opens_until_the_school_approves(operator, oakfield, frozen):
    access_request = ask(operator, oakfield, duration_hours=6)

    access_request.refresh_from_db()
    assert (access_request.state, access_request.write_allowed, access_request.requested_at) == (S.PENDING, False, NOW)
    assert (access_request.starts_at, access_request.expires_at, access_request.decided_by_user_id) == (None, None, None)
    entry = ChangeLogEntry.objects.get(object_type="support.supportaccessrequest", object_id=str(access_request.pk))
    assert (entry.actor_kind, entry.actor_id, entry.action) == ("operator", operator.user_id, "create")


def test_approval_starts_the_grant_now_and_ends_it_after_the_hours_asked(operator, oakfield, frozen):
    access_request = ask(operator, oakfield, duration_hours=6)
    frozen(2)

    approve(oakfield, access_request)

    access_request.refresh_from_db()
    head = school_user(oakfield, oakfield.demo.head_email)
    assert access_request.state == S.APPROVED
    assert (access_request.starts_at, access_request.expires_at) == (NOW + dt.timedelta(hours=2),
                                                                     NOW + dt.timedelta(hours=8))
    assert (access_request.decided_at, access_request.decided_by_user_id, access_request.decided_by_name) == (
        NOW + dt.timedelta(hours=2), head.pk, head.get_full_name())
    entry = ChangeLogEntry.objects.filter(object_type="support.supportaccessrequest", action="update").get()
    assert (entry.actor_kind, entry.actor_id, entry.actor_schema, entry.object_schema) == (
        "school_user", head.pk, oakfield.school.schema_name, "public")
    assert access_request.current_state() == S.APPROVED
    frozen(6)
    assert access_request.current_state() == SupportAccessRequest.EXPIRED


@pytest.mark.parametrize("fields, field", [
    ({"duration_hours": 0}, "duration_hours"),
    ({"duration_hours": 73}, "duration_hours"),
    ({"ticket_reference": "  "}, "ticket_reference"),
    ({"reason": ""}, "reason"),
])
def test_a_request_out_of_bounds_is_refused_and_writes_nothing(operator, oakfield, fields, field):
    before = snapshot()

    with pytest.raises(ValidationError) as refused:
        ask(operator, oakfield, **fields)

    assert list(refused.value.message_dict) == [field]
    assert snapshot() == before


def test_a_second_request_while_one_waits_or_runs_is_refused(operator, oakfield):
    first = ask(operator, oakfield)
    with pytest.raises(ValidationError, match="already have a request waiting"):
        ask(operator, oakfield, ticket_reference="T-2")
    approve(oakfield, first)
    before = snapshot()

    with pytest.raises(ValidationError, match="already have access"):
        ask(operator, oakfield, ticket_reference="T-3")

    assert snapshot() == before


def test_a_cancelled_school_cannot_be_asked(operator, oakfield):
    School.objects.filter(pk=oakfield.school.pk).update(status=School.Status.CANCELLED)
    oakfield.school.refresh_from_db()
    before = snapshot()

    try:
        with pytest.raises(ValidationError, match="site is closed"):
            ask(operator, oakfield)
        assert snapshot() == before
    finally:
        School.objects.filter(pk=oakfield.school.pk).update(status=School.Status.ACTIVE)
        oakfield.school.refresh_from_db()


def test_a_refusal_keeps_its_reason_and_cannot_be_approved_afterwards(operator, oakfield):
    access_request = ask(operator, oakfield)
    decide(oakfield, services.support_request_refuse, access_request, reason="Not without a phone call first")
    before = snapshot()

    with pytest.raises(ValidationError, match="refused: nothing was changed"):
        approve(oakfield, access_request)

    access_request.refresh_from_db()
    assert (access_request.state, access_request.refusal_reason) == (S.REFUSED, "Not without a phone call first")
    assert (access_request.starts_at, access_request.expires_at) == (None, None)
    assert snapshot() == before


def test_revoking_ends_an_approved_grant_and_only_an_approved_one(operator, oakfield):
    access_request = ask(operator, oakfield)
    with pytest.raises(ValidationError):
        decide(oakfield, services.support_grant_revoke, access_request)
    approve(oakfield, access_request)

    decide(oakfield, services.support_grant_revoke, access_request)

    access_request.refresh_from_db()
    head = school_user(oakfield, oakfield.demo.head_email)
    assert (access_request.state, access_request.revoked_by_user_id) == (S.REVOKED, head.pk)
    assert access_request.expires_at is not None  # the window approved stays on record


def test_an_admin_of_another_school_cannot_decide(operator, oakfield, riverside):
    access_request = ask(operator, oakfield)
    other_head = school_user(riverside, riverside.demo.head_email)
    before = snapshot()

    for service in (services.support_request_approve, services.support_request_refuse):
        with schema_context(riverside.school.schema_name), pytest.raises(PermissionDenied):
            service(user=other_head, access_request=access_request)

    assert snapshot() == before


def test_a_teacher_cannot_decide(operator, oakfield):
    access_request = ask(operator, oakfield)
    teacher = school_user(oakfield, oakfield.demo.teacher_email)
    before = snapshot()

    with schema_context(oakfield.school.schema_name), pytest.raises(PermissionDenied):
        services.support_request_approve(user=teacher, access_request=access_request)

    assert snapshot() == before


def test_the_guard_returns_the_grant_and_logs_the_page(operator, oakfield, frozen):
    access_request = approve(oakfield, ask(operator, oakfield))

    grant = services.support_grant_require(operator=operator, school=oakfield.school, path="/console/support/x/")

    assert grant.pk == access_request.pk
    assert log_rows() == [(operator.pk, oakfield.school.pk, grant.pk, "/console/support/x/", "allowed", "")]
    assert SupportAccessLog.objects.get().occurred_at == NOW


def test_a_read_only_grant_refuses_a_write_and_logs_it(operator, oakfield):
    grant = approve(oakfield, ask(operator, oakfield))

    with pytest.raises(PermissionDenied, match="read-only"):
        services.support_grant_require(operator=operator, school=oakfield.school, path="/p/", write=True)

    assert log_rows() == [(operator.pk, oakfield.school.pk, grant.pk, "/p/", "refused", "read_only")]


def test_a_grant_that_allows_writing_lets_a_write_through(operator, oakfield):
    grant = approve(oakfield, ask(operator, oakfield, write_allowed=True))

    assert services.support_grant_require(operator=operator, school=oakfield.school, path="/p/", write=True) == grant


def test_the_guard_will_not_run_inside_a_callers_transaction(operator, oakfield):
    """A rollback of the caller's transaction would take the log row with it."""
    approve(oakfield, ask(operator, oakfield))

    with transaction.atomic(), pytest.raises(RuntimeError, match="durable"):
        services.support_grant_require(operator=operator, school=oakfield.school, path="/p/")

    assert log_rows() == []
