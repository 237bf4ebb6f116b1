"""Support access on the school's site: its admin approves, refuses and revokes; another school's
admin and the school's teachers cannot."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.support.models import SupportAccessRequest
from tests.helpers import host_client, school_client
from tests.shared.support.helpers import approve, ask, school_user, snapshot

pytestmark = pytest.mark.django_db
S = SupportAccessRequest.State


def signed_in(seeded, email, password):
    return school_client(seeded, email, password)


def test_the_school_admin_approves_a_request_on_the_support_page(operator, oakfield, password):
    access_request = ask(operator, oakfield, ticket_reference="T-42", reason="Targets missing", duration_hours=3)
    client = signed_in(oakfield, oakfield.demo.head_email, password)
    page = client.get("/support/")
    assert page.status_code == 200
    assert [r.pk for r in page.context["pending"]] == [access_request.pk]
    assert "Targets missing" in page.content.decode() and "Sam Support" in page.content.decode()
    assert 'href="/support/"' in page.content.decode()  # in the navigation

    response = client.post("/support/", {"request": access_request.pk, "action": "approve"})

    assert response.status_code == 302 and response["Location"] == "/support/"
    access_request.refresh_from_db()
    assert access_request.state == S.APPROVED
    assert access_request.decided_by_user_id == school_user(oakfield, oakfield.demo.head_email).pk
    assert access_request.expires_at - access_request.starts_at == dt.timedelta(hours=3)
    assert [r.pk for r in client.get("/support/").context["current"]] == [access_request.pk]


def test_the_school_admin_refuses_with_a_reason_and_revokes_a_grant(operator, oakfield, riverside, password):
    waiting = ask(operator, oakfield, ticket_reference="T-1")
    running = approve(riverside, ask(operator, riverside))  # another school's: untouched throughout
    client = signed_in(oakfield, oakfield.demo.head_email, password)

    client.post("/support/", {"request": waiting.pk, "action": "refuse", "refusal_reason": "Call us first"})

    waiting.refresh_from_db()
    assert (waiting.state, waiting.refusal_reason) == (S.REFUSED, "Call us first")
    granted = approve(oakfield, ask(operator, oakfield, ticket_reference="T-2"))
    client.post("/support/", {"request": granted.pk, "action": "revoke"})
    granted.refresh_from_db()
    assert granted.state == S.REVOKED
    running.refresh_from_db()
    assert running.state == S.APPROVED
    earlier = client.get("/support/").context["earlier"]
    assert {(r.pk, r.current_state()) for r in earlier} == {(waiting.pk, S.REFUSED), (granted.pk, S.REVOKED)}


def test_an_admin_of_riverside_cannot_approve_oakfields_request(operator, oakfield, riverside, password):
    access_request = ask(operator, oakfield)
    client = signed_in(riverside, riverside.demo.head_email, password)
    before = snapshot()

    response = client.post("/support/", {"request": access_request.pk, "action": "approve"})

    assert response.status_code == 404
    assert snapshot() == before
    assert list(client.get("/support/").context["pending"]) == []  # nor sees it


def test_deciding_twice_changes_nothing_the_second_time(operator, oakfield, password):
    access_request = ask(operator, oakfield)
    client = signed_in(oakfield, oakfield.demo.head_email, password)
    client.post("/support/", {"request": access_request.pk, "action": "refuse"})
    before = snapshot()

    response = client.post("/support/", {"request": access_request.pk, "action": "approve"}, follow=True)

    assert "nothing was changed" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("who", ["teacher", "parent"])
def test_a_teacher_or_a_parent_cannot_open_the_support_page(who, operator, oakfield, password):
    access_request = ask(operator, oakfield)
    email = oakfield.demo.teacher_email if who == "teacher" else oakfield.demo.parent_email
    client = signed_in(oakfield, email, password)
    before = snapshot()

    assert client.get("/support/").status_code == 403
    assert client.post("/support/", {"request": access_request.pk, "action": "approve"}).status_code == 403
    assert snapshot() == before
    assert 'href="/support/"' not in client.get("/").content.decode()


def test_signed_out_the_support_page_asks_to_sign_in(oakfield):
    response = host_client(oakfield.hostname).get("/support/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
