"""The vendor's data requests in the console: recorded, started, answered with an export of the
vendor's own records found by email, or handed over to the school."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django_tenants.utils import schema_context

from shared.changes import Actor
from shared.clients.services import contact_create, correspondence_record
from shared.operators.models import Operator
from shared.privacy.models import SubjectRequest
from tenants.rights.models import SchoolRequest
from tests.helpers import console_client, form_token

pytestmark = pytest.mark.django_db


def record(client, **data) -> SubjectRequest:
    page = client.get("/console/requests/")
    response = client.post("/console/requests/", {"form_token": form_token(page), "received_on": "2026-11-02",
                                                  "requester_name": "Robin Contact", **data})
    assert response.status_code == 302, response.content[:2000]
    return SubjectRequest.objects.latest("pk")


def act(client, request: SubjectRequest, **data):
    page = client.get(f"/console/requests/{request.pk}/")
    return client.post(f"/console/requests/{request.pk}/", {"form_token": form_token(page), **data})


def test_an_access_request_about_the_vendors_records_is_answered_with_an_export(oakfield, riverside):
    actor = Actor.operator(Operator.objects.get(role=Operator.Role.ADMINISTRATOR).user)
    contact = contact_create(actor=actor, school=oakfield.school, full_name="Robin Contact", email="robin@oakfield.example")
    other = contact_create(actor=actor, school=riverside.school, full_name="Sam Other", email="sam@riverside.example")
    correspondence_record(actor=actor, school=oakfield.school, direction="in", channel="email",
                          subject="Renewal", body="Please renew", contact=contact)
    client = console_client(Operator.Role.DPO)
    request = record(client, kind="access", requester_email="ROBIN@oakfield.example")

    assert client.get(f"/console/requests/{request.pk}/export/").status_code == 302  # not started: nothing handed out
    act(client, request, action="start")
    page = client.get(f"/console/requests/{request.pk}/").content.decode()
    assert "<li>Contacts: 1</li>" in page and "<li>Correspondence: 1</li>" in page  # in words, not model labels
    assert "clients.Contact:" not in page
    response = client.get(f"/console/requests/{request.pk}/export/")
    document = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("export.json"))

    assert [row["full_name"] for row in document["records"]["clients.Contact"]] == ["Robin Contact"]
    assert document["records"]["clients.Correspondence"][0]["subject"] == "Renewal"
    assert other.full_name not in json.dumps(document)


def test_a_request_about_pupil_data_is_handed_over_to_the_school_with_its_clock(oakfield):
    client = console_client(Operator.Role.DPO)
    request = record(client, kind="erasure", details="Please delete my daughter's records at Oakfield")

    act(client, request, action="forward", school=oakfield.school.pk)

    request.refresh_from_db()
    assert request.state == SubjectRequest.State.FORWARDED and request.school == oakfield.school
    with schema_context(oakfield.school.schema_name):
        handed = SchoolRequest.objects.get(vendor_request_id=request.pk)
        assert handed.kind == "erasure" and handed.received_on == request.received_on


def test_an_impossible_move_is_refused_and_changes_nothing():
    client = console_client(Operator.Role.DPO)
    request = record(client, kind="objection")
    act(client, request, action="start")
    act(client, request, action="extend", months=1, reason="Many records to search", told_on="2026-11-20")

    response = act(client, request, action="await_identity")  # the clock cannot stop again once extended

    request.refresh_from_db()
    assert response.status_code == 302 and request.state == SubjectRequest.State.EXTENDED
    assert request.paused_since is None and request.extension_months == 1


def test_an_overdue_request_shows_on_the_dashboard_for_the_dpo_only():
    client = console_client(Operator.Role.DPO)
    request = record(client, kind="access", received_on="2026-01-05")

    assert "overdue since 5 Feb 2026" in client.get("/console/").content.decode()
    assert f"/console/requests/{request.pk}/" not in console_client(Operator.Role.BILLING).get("/console/").content.decode()


def test_an_objection_to_marketing_stops_it_for_every_prospect_record_of_that_email():
    from shared.marketing.models import Prospect
    from shared.marketing.services import prospect_create

    actor = Actor.operator(Operator.objects.get(role=Operator.Role.ADMINISTRATOR).user)
    mine = prospect_create(actor=actor, full_name="Pat Prospect", organisation="Hill School", email="pat@hill.example")
    other = prospect_create(actor=actor, full_name="Kim Other", organisation="Dale School", email="kim@dale.example")
    client = console_client(Operator.Role.DPO)
    request = record(client, kind="objection", requester_email="Pat@Hill.example")

    act(client, request, action="object_marketing")  # not started: refused
    assert Prospect.objects.get(pk=mine.pk).objected_to_marketing_at is None
    act(client, request, action="start")
    act(client, request, action="object_marketing")

    assert Prospect.objects.get(pk=mine.pk).objected_to_marketing_at is not None
    assert Prospect.objects.get(pk=other.pk).objected_to_marketing_at is None
