"""Support access in the console: every page of a school's data passes the guard. Without an
approved, unexpired, unrevoked grant for exactly that school the page is refused, the attempt is
logged with its reason, and nothing else changes; with one, the data shows and the school sees the
access on its own support page."""

from __future__ import annotations

import datetime as dt

import pytest

from shared import clock
from shared.operators.models import Operator
from shared.support import services
from shared.support.models import SupportAccessLog, SupportAccessRequest
from tests.helpers import console_client, form_token, school_client
from tests.shared.support.helpers import approve, ask, decide, first_pupil, log_rows, snapshot

pytestmark = pytest.mark.django_db
S = SupportAccessRequest.State


def pupil_list_url(seeded) -> str:
    return f"/console/support/clients/{seeded.school.pk}/pupils/"


def pupil_url(seeded) -> str:
    return f"/console/support/clients/{seeded.school.pk}/pupils/{first_pupil(seeded).pk}/"


def no_request(operator, oakfield, riverside, move):
    return None


def pending(operator, oakfield, riverside, move):
    return ask(operator, oakfield)


def refused(operator, oakfield, riverside, move):
    return decide(oakfield, services.support_request_refuse, ask(operator, oakfield), reason="No")


def revoked(operator, oakfield, riverside, move):
    return decide(oakfield, services.support_grant_revoke, approve(oakfield, ask(operator, oakfield)))


def expired(operator, oakfield, riverside, move):
    grant = approve(oakfield, ask(operator, oakfield, duration_hours=2))
    move(hours=2)  # the grant ends exactly now
    return grant


def another_schools(operator, oakfield, riverside, move):
    approve(riverside, ask(operator, riverside))
    return None  # Riverside's grant is never attached to Oakfield's log


@pytest.fixture
def move(monkeypatch):
    """Stop the clock now; ``move(hours=...)`` moves it that far forward from where it stopped."""
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start)

    def forward(hours: float) -> None:
        monkeypatch.setattr(clock, "now", lambda: start + dt.timedelta(hours=hours))

    return forward


@pytest.mark.parametrize("url", [pupil_list_url, pupil_url], ids=["pupil list", "pupil page"])
@pytest.mark.parametrize("setup, reason", [
    (no_request, "no_grant"), (pending, "pending"), (refused, "refused"), (revoked, "revoked"),
    (expired, "expired"), (another_schools, "other_school"),
], ids=lambda value: value if isinstance(value, str) else value.__name__)
def test_without_a_current_grant_for_the_school_the_page_is_refused_and_logged(setup, reason, url, operator, oakfield,
                                                                               riverside, move):
    client = console_client(Operator.Role.SUPPORT)
    grant = setup(operator, oakfield, riverside, move)
    path = url(oakfield)
    pupil = first_pupil(oakfield)
    before = snapshot()
    logged_before = log_rows()

    response = client.get(path)

    assert response.status_code == 403
    assert pupil.surname not in response.content.decode()
    assert snapshot() == before
    assert log_rows() == [*logged_before, (operator.pk, oakfield.school.pk, grant.pk if grant else None, path,
                                           "refused", reason)]


def test_an_approved_grant_shows_the_pupils_and_the_school_sees_each_page(operator, oakfield, password):
    client = console_client(Operator.Role.SUPPORT)
    grant = approve(oakfield, ask(operator, oakfield, ticket_reference="T-77"))
    pupil = first_pupil(oakfield)

    listed = client.get(pupil_list_url(oakfield))
    shown = client.get(pupil_url(oakfield))
    searched = client.get(pupil_list_url(oakfield), {"q": pupil.surname})

    assert listed.status_code == shown.status_code == searched.status_code == 200
    assert f"{pupil.surname}, {pupil.forename}" in listed.content.decode()
    assert listed.context["page"].paginator.count == 60  # Oakfield's demo pupils, all on roll
    assert "Read-only support access" in listed.content.decode()
    assert f"<h1>{pupil.forename} {pupil.surname}</h1>" in shown.content.decode()
    assert b"<form" not in shown.content.split(b"<main", 1)[1]  # read-only: nothing on the page posts
    assert pupil.pk in [p.id for p in searched.context["page"]]
    assert log_rows() == [(operator.pk, oakfield.school.pk, grant.pk, path, "allowed", "") for path in
                          (pupil_list_url(oakfield), pupil_url(oakfield), pupil_list_url(oakfield))]

    site = school_client(oakfield, oakfield.demo.head_email, password)
    page = site.get("/support/")

    assert page.status_code == 200
    log = [(e.operator_name, e.page_name, e.outcome) for e in page.context["log"]]
    assert log == [("Sam Support", "Pupil list", "allowed"), ("Sam Support", f"Pupil page: {pupil}", "allowed"),
                   ("Sam Support", "Pupil list", "allowed")]
    assert [r.pk for r in page.context["current"]] == [grant.pk]
    assert "T-77" in page.content.decode()


def test_an_unknown_pupil_under_a_grant_is_not_found(operator, oakfield):
    client = console_client(Operator.Role.SUPPORT)
    approve(oakfield, ask(operator, oakfield))

    assert client.get(f"/console/support/clients/{oakfield.school.pk}/pupils/999999/").status_code == 404


def test_the_request_form_on_the_client_page_sends_a_request(operator, oakfield):
    client = console_client(Operator.Role.SUPPORT)
    page = client.get(f"/console/clients/{oakfield.school.pk}/")
    assert "Request support access" in page.content.decode()

    response = client.post(f"/console/support/clients/{oakfield.school.pk}/request/", {
        "ticket_reference": "T-555", "reason": "Charts are blank", "duration_hours": "8", "form_token": form_token(page)})

    assert response.status_code == 302 and response["Location"] == f"/console/clients/{oakfield.school.pk}/"
    made = SupportAccessRequest.objects.get(ticket_reference="T-555")
    assert (made.operator_id, made.school_id, made.state, made.duration_hours, made.write_allowed) == (
        operator.pk, oakfield.school.pk, S.PENDING, 8, False)
    listed = client.get("/console/support/").content.decode()
    assert "T-555" in listed and "Waiting for the school" in listed


def test_an_out_of_bounds_request_is_shown_again_and_nothing_is_saved(operator, oakfield):
    client = console_client(Operator.Role.SUPPORT)
    page = client.get(f"/console/support/clients/{oakfield.school.pk}/request/")
    before = snapshot()

    response = client.post(f"/console/support/clients/{oakfield.school.pk}/request/", {
        "ticket_reference": "T-9", "reason": "x", "duration_hours": "100", "form_token": form_token(page)})

    assert response.status_code == 200 and response.context["form"].errors["duration_hours"]
    assert snapshot() == before


@pytest.mark.parametrize("role", [Operator.Role.BILLING, Operator.Role.DPO])
def test_roles_without_the_support_screen_can_neither_ask_nor_look(role, oakfield):
    client = console_client(role)
    before = snapshot()

    assert client.get(pupil_list_url(oakfield)).status_code == 403
    assert client.get(f"/console/support/clients/{oakfield.school.pk}/request/").status_code == 403
    assert "Request support access" not in client.get(f"/console/clients/{oakfield.school.pk}/").content.decode()
    assert snapshot() == before
    assert SupportAccessLog.objects.count() == 0  # refused by role before the guard: no school data was asked for


def test_the_console_reads_a_schools_data_only_through_the_guarded_support_views():
    """No console module enters a school's schema or reads its models itself; the readers of a
    school's data take the grant the guard returns, and the views that call them call the guard.
    (Outside the console, the retention calendar reads pupil ids and leaving dates only, and the
    export returns a cancelled school's data to it.)"""
    import inspect

    from django.conf import settings

    from console.views import support
    from orchestration import support as selectors

    console = settings.BASE_DIR / "platform" / "console"
    words = ("schema_context", "tenant_context", "set_schema", "tenants.pupils", "tenants.assessment")
    offenders = sorted(str(p.relative_to(console)) for p in console.rglob("*.py") if any(w in p.read_text() for w in words))
    assert offenders == []
    for reader in (selectors.support_pupil_list, selectors.support_pupil_detail):
        assert "grant" in inspect.signature(reader).parameters
    for view in (support.support_pupil_list, support.support_pupil_detail):
        assert view.console_screen == "support_access"
        assert "services.support_grant_require(" in inspect.getsource(inspect.unwrap(view))
