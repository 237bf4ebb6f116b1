"""The compliance screens in the console: who may open them, the dashboard's breach list, the breach
forms, and the record of processing's CSV download."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone

from shared import clock
from shared.compliance.models import Breach
from shared.operators.models import Operator
from tests.helpers import console_client, form_token

pytestmark = pytest.mark.django_db
R = Operator.Role
SCREENS = ["/console/compliance/breaches/", "/console/compliance/breaches/new/", "/console/compliance/disclosures/",
           "/console/compliance/disclosures/new/", "/console/compliance/processing/",
           "/console/compliance/processing.csv", "/console/compliance/notice/", "/console/compliance/terms/"]


@pytest.mark.parametrize("role", [R.BILLING, R.SUPPORT])
def test_billing_and_support_cannot_open_the_compliance_screens(role, breach):
    client = console_client(role)

    assert [client.get(url).status_code for url in [*SCREENS, f"/console/compliance/breaches/{breach.pk}/"]] \
        == [403] * (len(SCREENS) + 1)


@pytest.mark.parametrize("role", [R.ADMINISTRATOR, R.DPO])
def test_administrators_and_the_dpo_open_them(role, breach):
    client = console_client(role)

    assert [client.get(url).status_code for url in [*SCREENS, f"/console/compliance/breaches/{breach.pk}/"]] \
        == [200] * (len(SCREENS) + 1)


def test_an_overdue_breach_shows_on_the_dashboard(make_breach):
    overdue = make_breach(hours_ago=72.5, summary="Overdue: lost laptop")
    make_breach(hours_ago=5, summary="Fresh: misdirected email")

    page = console_client(R.DPO).get("/console/").content.decode()

    assert "Breach reports due to the ICO" in page
    assert f"{overdue.reference}: Overdue: lost laptop" in page and "overdue by 30 min" in page
    assert "Fresh: misdirected email" not in page


def test_the_dashboard_hides_breaches_from_roles_that_cannot_open_them(make_breach):
    make_breach(hours_ago=80, summary="Overdue: lost laptop")

    assert b"Overdue: lost laptop" not in console_client(R.BILLING).get("/console/").content


def test_the_breach_page_shows_the_deadline_and_what_blocks_closing(make_breach):
    breach = make_breach(hours_ago=30.5, risk=Breach.Risk.HIGH)

    page = console_client(R.DPO).get(f"/console/compliance/breaches/{breach.pk}/").content.decode()

    assert "41 h 30 min left" in page or "41 h 29 min left" in page
    assert "record notifying the people affected" in page


def test_recording_a_breach_through_the_console(oakfield):
    client = console_client(R.ADMINISTRATOR)
    page = client.get("/console/compliance/breaches/new/")

    response = client.post("/console/compliance/breaches/new/", {
        "summary": "Teacher's laptop stolen", "aware_at": "2026-11-27T09:15", "nature": "Stolen from a car.",
        "people_categories": ["pupils", "school_staff"], "data_categories": ["pupil"], "people_affected": "31",
        "schools": [oakfield.school.pk], "consequences": "Possible access to a class's results.",
        "measures": "Password reset, device wiped remotely.", "risk": "medium", "form_token": form_token(page)})

    breach = Breach.objects.get(summary="Teacher's laptop stolen")
    assert response.status_code == 302 and response["Location"] == f"/console/compliance/breaches/{breach.pk}/"
    assert list(breach.schools.all()) == [oakfield.school] and breach.people_affected == 31


def test_a_decision_without_reasoning_through_the_console_shows_the_error_and_saves_nothing(breach):
    client = console_client(R.DPO)
    page = client.get(f"/console/compliance/breaches/{breach.pk}/")

    response = client.post(f"/console/compliance/breaches/{breach.pk}/decision/",
                           {"decision": "report", "reasoning": "", "form_token": form_token(page)})

    assert response.status_code == 200 and b"Give the reasoning for the decision" in response.content
    breach.refresh_from_db()
    assert breach.ico_decision == ""


def test_closing_too_early_through_the_console_says_why(breach):
    client = console_client(R.DPO)
    page = client.get(f"/console/compliance/breaches/{breach.pk}/")

    response = client.post(f"/console/compliance/breaches/{breach.pk}/close/", {"form_token": form_token(page)})

    assert response.status_code == 200 and b"Record the decision whether to report" in response.content
    breach.refresh_from_db()
    assert breach.closed_at is None


def test_recording_a_disclosure_on_a_ground_outside_the_notice_is_refused_by_the_form():
    client = console_client(R.DPO)
    page = client.get("/console/compliance/disclosures/new/")

    response = client.post("/console/compliance/disclosures/new/", {
        "recipient": "A data broker", "disclosed_at": "2026-11-27T10:00", "ground": "legitimate_interests",
        "data_categories": ["contract"], "description": "Contact list", "authorised_by": "Nobody",
        "form_token": form_token(page)})

    assert response.status_code == 200 and b"Select a valid choice" in response.content


def test_the_record_of_processing_downloads_as_csv(oakfield, riverside):
    response = console_client(R.DPO).get("/console/compliance/processing.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="record-of-processing-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {"Oakfield Primary", "Riverside Academy", "Pupil Tracking Ltd"} <= {row["controller"] for row in rows}


def test_the_record_of_processing_page_shows_each_school(oakfield, riverside):
    page = console_client(R.ADMINISTRATOR).get("/console/compliance/processing/").content.decode()

    assert "Record of processing activities" in page and "Oakfield Primary" in page and "Riverside Academy" in page


def test_a_high_risk_breach_through_the_console_from_decision_to_closing(make_breach, oakfield):
    breach = make_breach(risk=Breach.Risk.HIGH, schools=[oakfield.school])
    client = console_client(R.DPO)
    url = f"/console/compliance/breaches/{breach.pk}/"

    now = timezone.localtime(clock.now()).strftime("%Y-%m-%dT%H:%M")

    def post(action, data):
        response = client.post(f"{url}{action}/", {**data, "form_token": form_token(client.get(url))})
        assert response.status_code == 302, response.content.decode()[:3000]

    post("decision", {"decision": "report", "reasoning": "Results of 28 pupils seen by another school."})
    post("report", {"reported_at": now, "reference": "IC-2026-77"})
    post("notifications", {"audience": "school", "school": oakfield.school.pk, "recipient": "Helen Morris, head",
                           "method": "phone", "notified_at": now, "content": "What happened."})
    post("notifications", {"audience": "people", "recipient": "Parents of 28 pupils", "method": "letter",
                           "notified_at": now, "content": "What happened and what to do."})
    post("close", {})

    breach.refresh_from_db()
    assert (breach.ico_decision, breach.ico_reference, breach.notifications.count()) == ("report", "IC-2026-77", 2)
    assert breach.closed_at is not None
    assert b"Closed" in client.get(url).content


def test_updating_a_breach_assessment_through_the_console(breach, oakfield):
    client = console_client(R.ADMINISTRATOR)
    url = f"/console/compliance/breaches/{breach.pk}/edit/"
    page = client.get(url)

    response = client.post(url, {
        "summary": breach.summary, "aware_at": "2026-11-27T09:15", "nature": breach.nature,
        "people_categories": ["pupils", "parents"], "data_categories": ["pupil"], "people_affected": "40",
        "schools": [oakfield.school.pk], "consequences": breach.consequences, "measures": breach.measures,
        "risk": "high", "form_token": form_token(page)})

    assert response.status_code == 302
    breach.refresh_from_db()
    assert (breach.risk, breach.people_affected, breach.people_categories) == ("high", 40, ["pupils", "parents"])
    assert list(breach.schools.all()) == [oakfield.school]


def test_the_record_of_processing_page_lists_each_schools_automated_processes(oakfield, riverside):
    from django.utils.html import escape

    from shared import automation

    page = console_client(R.DPO).get("/console/compliance/processing/").content.decode()

    processes = page.split("As processor, for each school", 1)[1]
    for declaration in automation.school_processes():
        assert processes.count(f"<tr><td>{escape(declaration.title)}</td>") >= 2, declaration.name
        assert f">{declaration.name}<" not in processes  # the actor's own name is not for people
