"""The school admin's request pages: record, start, answer; the export link for the person;
refusals that change nothing; other roles and other schools kept out."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django_tenants.utils import schema_context

from shared.privacy.models import ErasureLedgerEntry
from tenants.pupils.models import Pupil
from tenants.rights.models import ExportLink, SchoolRequest
from tests.helpers import host_client, school_client

pytestmark = pytest.mark.django_db


def signed_in(school, email, password):
    return school_client(school, email, password)


def recorded(client, kind: str, pupil: Pupil, received_on: str = "") -> int:
    response = client.post("/rights/", {"kind": kind, "subject": f"pupil:{pupil.pk}", "requester_name": "A Parent",
                                        "received_on": received_on or dt.date.today().isoformat()})
    assert response.status_code == 302, response.content[:3000]
    return int(response["Location"].rstrip("/").rsplit("/", 1)[1])


def test_an_admin_answers_an_access_request_and_the_person_downloads_once(oakfield, riverside, password):
    admin = signed_in(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.first()
    request_id = recorded(admin, "access", pupil)
    page = admin.post(f"/rights/{request_id}/", {"action": "export"}, follow=True).content.decode()
    assert "Only a request in progress can be answered" in page  # identity not confirmed yet: nothing built
    with schema_context(oakfield.school.schema_name):
        assert not ExportLink.objects.filter(request_id=request_id).exists()
    admin.post(f"/rights/{request_id}/", {"action": "start"})
    page = admin.post(f"/rights/{request_id}/", {"action": "export"}).content.decode()
    link = re.search(r"<code>(http[^<]+)</code>", page).group(1)
    path = link.split(oakfield.hostname, 1)[1].lstrip(":0123456789")

    assert host_client(riverside.hostname).get(path).status_code == 410  # another school's site knows no such link
    person = host_client(oakfield.hostname)  # not signed in
    first = person.get(path)
    assert first.status_code == 200 and first["Content-Type"] == "application/zip" and first.content[:2] == b"PK"
    assert person.get(path).status_code == 410


def test_an_erasure_needs_the_name_typed_and_then_survives_in_the_ledger(oakfield, password):
    admin = signed_in(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.last()
    request_id = recorded(admin, "erasure", pupil)
    admin.post(f"/rights/{request_id}/", {"action": "start"})

    admin.post(f"/rights/{request_id}/", {"action": "erase", "confirm": "someone else"})
    with schema_context(oakfield.school.schema_name):
        assert Pupil.objects.filter(pk=pupil.pk).exists()
    assert not ErasureLedgerEntry.objects.filter(school=oakfield.school, object_id=pupil.pk).exists()

    admin.post(f"/rights/{request_id}/", {"action": "erase", "confirm": str(pupil)})
    with schema_context(oakfield.school.schema_name):
        assert not Pupil.objects.filter(pk=pupil.pk).exists()
        assert SchoolRequest.objects.get(pk=request_id).state == SchoolRequest.State.COMPLETED
    assert ErasureLedgerEntry.objects.filter(school=oakfield.school, model="pupils.Pupil", object_id=pupil.pk).exists()


def test_an_overdue_request_shows_on_the_dashboard_and_the_list(oakfield, password):
    admin = signed_in(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.first()
    request_id = recorded(admin, "objection", pupil, received_on="2026-01-05")
    assert "overdue since 5 Feb 2026" in admin.get("/").content.decode()
    assert f'href="/rights/{request_id}/"' in admin.get("/rights/").content.decode()


def test_only_the_school_admin_opens_the_request_pages(oakfield, password):
    teacher = signed_in(oakfield, oakfield.demo.teacher_email, password)
    assert teacher.get("/rights/").status_code == 403
    parent = signed_in(oakfield, oakfield.demo.parent_email, password)
    assert parent.get("/rights/").status_code == 403


def test_a_consent_is_recorded_and_withdrawn_on_the_consents_page(oakfield, password):
    from tenants.rights.models import Consent

    admin = signed_in(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.first()
    assert admin.post("/rights/consents/", {"subject": f"pupil:{pupil.pk}", "purpose": "Photographs on reports",
                                            "given_on": "2026-09-01"}).status_code == 302
    with schema_context(oakfield.school.schema_name):
        consent = Consent.objects.get(pupil=pupil, purpose="Photographs on reports")
    assert "Photographs on reports" in admin.get("/rights/consents/").content.decode()
    admin.post("/rights/consents/", {"action": "withdraw", "consent": consent.pk})
    with schema_context(oakfield.school.schema_name):
        assert Consent.objects.get(pk=consent.pk).withdrawn_on is not None
    assert admin.post("/rights/consents/", {"subject": "", "purpose": "x", "given_on": "2026-09-01"}).status_code == 200

