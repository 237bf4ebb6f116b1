"""Nothing internal is shown to people: no "app.Model" labels, no retention keys such as
"prospect:12", no schema names, no raw import counts; what they name is said in words."""

from __future__ import annotations

import re

import pytest

from console.templatetags.console import registry_fields, unit_kind, unit_name
from shared.audit.models import ChangeLogEntry
from shared.changes import Actor
from shared.clients.services import contact_create
from shared.marketing.services import prospect_create
from shared.operators.models import Operator
from shared.privacy.models import LegalHold, SubjectRequest
from tenants.xporter.history import import_summary
from tests.console.test_requests import act, record
from tests.helpers import console_client, form_token, school_client

pytestmark = pytest.mark.django_db
MODEL_LABEL = re.compile(r"\b(?:audit|billing|clients|compliance|marketing|operators|privacy|schools|support|mail|"
                         r"assessment|configuration|pupils|rights|users|xporter)\.[A-Z][A-Za-z]+\b")
SCHEMA = re.compile(r"\bschool_\d{6}\b")


def text_of(response) -> str:
    """What a reader sees: the page without its tags, scripts and attribute values."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def admin() -> Actor:
    return Actor.operator(Operator.objects.get(role=Operator.Role.ADMINISTRATOR).user)


def test_the_consoles_pages_show_no_model_labels_schema_names_or_retention_keys(oakfield):
    client = console_client(Operator.Role.ADMINISTRATOR)
    for path in ("/console/", "/console/retention/", "/console/technical/changes/", "/console/compliance/processing/",
                 "/console/requests/", f"/console/clients/{oakfield.school.pk}/"):
        response = client.get(path)
        assert response.status_code == 200, path
        shown = text_of(response)
        assert not MODEL_LABEL.search(shown), (path, MODEL_LABEL.search(shown))
        if path != f"/console/clients/{oakfield.school.pk}/":  # there, named as the database schema it is
            assert not SCHEMA.search(shown), (path, SCHEMA.search(shown))
        assert not re.search(r"\b(?:prospect|contact|school):\d", shown), path
        assert "internal key" not in shown


def test_the_change_log_names_records_and_schools_in_words(oakfield):
    schema = oakfield.school.schema_name
    ChangeLogEntry.objects.create(actor_kind="school_user", actor_id=4, actor_schema=schema, object_schema=schema,
                                  object_type="pupils.Pupil", object_id="17", action="update", fields=["surname"])
    ChangeLogEntry.objects.create(actor_kind="operator", actor_id=1, actor_schema="public", object_schema="public",
                                  object_type="clients.Contact", object_id="3", action="create", fields=["email"])
    client = console_client(Operator.Role.ADMINISTRATOR)

    page = client.get("/console/technical/changes/").content.decode()

    assert '<option value="clients.Contact">Contacts</option>' in page  # the value is the key, the text words
    assert "<td>Contact #3</td>" in page and f"<td>Pupil #17 at {oakfield.school.name}</td>" in page
    assert f"#4 ({oakfield.school.name})" in page and schema not in page
    assert client.get("/console/technical/changes/?object_type=clients.Contact").status_code == 200


def test_a_legal_hold_names_its_person_from_a_list_and_shows_them_by_name(admin, oakfield):
    prospect = prospect_create(actor=admin, full_name="Pat Prospect", organisation="Hill School")
    contact = contact_create(actor=admin, school=oakfield.school, full_name="Robin Contact", email="robin@oakfield.example")
    client = console_client(Operator.Role.ADMINISTRATOR)
    page = client.get("/console/retention/")
    html = page.content.decode()
    assert f'<option value="prospect:{prospect.pk}">Pat Prospect (prospect, Hill School)</option>' in html
    assert f'<option value="contact:{contact.pk}">Robin Contact (contact at {oakfield.school.name})</option>' in html
    assert '<option value="tax">Invoicing, payment and tax records</option>' in html

    response = client.post("/console/retention/", {"form_token": form_token(page), "reason": "A claim", "owner": "Legal",
                                                   "starts_on": "2026-01-05", "person": f"prospect:{prospect.pk}"})

    assert response.status_code == 302
    assert LegalHold.objects.get(reason="A claim").person == f"prospect:{prospect.pk}"
    shown = text_of(client.get("/console/retention/"))
    assert "person: Pat Prospect (prospect, Hill School)" in shown and f"prospect:{prospect.pk}" not in shown


def test_a_hold_on_someone_not_in_the_list_is_refused_and_places_nothing():
    client = console_client(Operator.Role.ADMINISTRATOR)
    page = client.get("/console/retention/")
    before = LegalHold.objects.count()

    response = client.post("/console/retention/", {"form_token": form_token(page), "reason": "A claim", "owner": "Legal",
                                                   "starts_on": "2026-01-05", "person": "prospect:999999"})

    assert response.status_code == 200 and "Select a valid choice." in response.content.decode()
    assert LegalHold.objects.count() == before


def test_the_request_page_takes_a_record_as_its_page_names_it(admin, oakfield):
    contact = contact_create(actor=admin, school=oakfield.school, full_name="Robin Contact", email="robin@oakfield.example")
    client = console_client(Operator.Role.DPO)
    request = record(client, kind="erasure")
    page = client.get(f"/console/requests/{request.pk}/").content.decode()
    assert "for example Contact 12 or Prospect 7" in page and "contact:12" not in page

    act(client, request, action="identify", reference=f"Contact {contact.pk}")

    assert SubjectRequest.objects.get(pk=request.pk).subject_label == f"Contact Robin Contact ({oakfield.school.name})"


def test_retention_units_and_registry_lines_in_words():
    assert unit_kind("client_records") == "A client's contract and account records"
    assert unit_name("prospect:12") == "Prospect 12"
    assert unit_name("school:3:pupil:7") == "Pupil 7"
    assert unit_name("change_log:2026-11-30") == "Changes of 30 Nov 2026"
    assert unit_name("visits-before:2025-12-01") == "Visits before 1 Dec 2025"
    assert registry_fields("pupils.Pupil: forename, surname") == "Pupils: forename, surname"


def test_an_imports_counts_read_in_words_whatever_the_tables_name():
    assert import_summary({"Groups.created": 30, "Group.created": 2}) == "2 groups added, 30 groups added"
    assert import_summary({"AssessmentResults.created": 4}) == "4 assessment results added"
    assert import_summary({"Staff.created": 1}) == "1 staff member added"


def test_the_import_page_shows_the_demo_imports_in_words(oakfield):
    shown = text_of(school_client(oakfield, oakfield.demo.head_email).get("/import/"))

    assert "groups added" in shown and "pupils added" in shown
    assert not re.search(r"\b[A-Z][A-Za-z]+\.(?:created|updated|deleted|unchanged)\b", shown)
