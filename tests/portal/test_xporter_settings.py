"""The school admin connects Xporter from the site: saves the establishment number and the secret
(never shown again), tests the connection against the fake and sees the scopes or the reason,
switches the import off (the imported data stays) and asks for an import. Teachers are refused;
bad input is refused with a message and changes nothing; one school never sees another's."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from ops.xporter_fake import FakeSchool, FakeXporter, serve_in_thread
from shared.audit.models import ChangeLogEntry
from tenants.pupils.models import Pupil
from tenants.xporter import services, tasks
from tenants.xporter.client import XporterError
from tenants.xporter.models import XporterConnection
from tests.helpers import school_client

pytestmark = pytest.mark.django_db

SECRET = "0b7e1d4a-93f2-4c55-a1de-oakfield-secret"
PAGE = "/import/xporter/"


@pytest.fixture
def fake():
    school = FakeSchool(estab="3312001", pupils=4, password=SECRET,
                        scopes=frozenset({"Student", "Contact", "AssessmentResults", "SEN"}))
    base_url, server = serve_in_thread(FakeXporter([school]))
    yield base_url
    server.shutdown()


@pytest.fixture
def admin(oakfield, password):
    return school_client(oakfield, oakfield.demo.head_email, password)


def in_school(school):
    return schema_context(school.school.schema_name)


def saved(school) -> XporterConnection | None:
    with in_school(school):
        return XporterConnection.objects.first()


def change_log(school) -> list[list[str]]:
    with in_school(school):
        return [e.fields for e in ChangeLogEntry.objects.filter(object_type="xporter.xporterconnection").order_by("pk")]


def test_a_school_admin_saves_the_connection_and_the_secret_is_never_shown_again(oakfield, admin):
    response = admin.post(PAGE, {"action": "save", "estab": "3312001", "secret": SECRET})
    page = admin.get(PAGE).content.decode()

    assert response.status_code == 302
    connection = saved(oakfield)
    assert connection.estab == "3312001" and connection.has_secret and SECRET not in connection.secret_sealed
    assert SECRET not in page and connection.secret_sealed not in page and "A school secret is saved" in page
    assert change_log(oakfield)[-1] == ["secret_sealed"]  # the field named, never its value
    assert "/import/xporter/" in admin.get("/import/").content.decode()


def test_saving_without_a_new_secret_keeps_the_saved_one(oakfield, admin):
    admin.post(PAGE, {"action": "save", "estab": "3312001", "secret": SECRET})
    sealed = saved(oakfield).secret_sealed

    response = admin.post(PAGE, {"action": "save", "estab": "3312001", "secret": ""})

    assert response.status_code == 302 and saved(oakfield).secret_sealed == sealed


@pytest.mark.parametrize(("data", "message"), [
    ({"estab": "331200", "secret": SECRET}, "The establishment number is 7 digits"),
    ({"estab": "33120011", "secret": SECRET}, "at most 7 characters"),
    ({"estab": "33a2001", "secret": SECRET}, "The establishment number is 7 digits"),
    ({"estab": "3312\x00001", "secret": SECRET}, "not allowed (NUL)"),
    ({"estab": "3312001", "secret": "abc\x00def"}, "not allowed (NUL)"),
    ({"estab": "3312001", "secret": "x" * 201}, "at most 200 characters"),
])
def test_bad_input_is_refused_with_a_message_and_writes_nothing(oakfield, admin, data, message):
    before, log = saved(oakfield), change_log(oakfield)

    response = admin.post(PAGE, {"action": "save", **data})

    # (a NUL is refused for every form before any view runs, with a 400 that says why)
    assert response.status_code == (400 if any("\x00" in v for v in data.values()) else 200) and message in response.content.decode()
    assert SECRET not in response.content.decode()  # a refused form does not echo the secret either
    after = saved(oakfield)
    assert (after.estab, after.secret_sealed) == (before.estab, before.secret_sealed) and change_log(oakfield) == log


@pytest.mark.parametrize(("estab", "secret", "field"), [
    ("3312\x00001", SECRET, "estab"), ("3312001", "abc\x00def", "secret"), ("3312001", "x" * 201, "secret")])
def test_the_service_refuses_what_the_form_would_and_writes_nothing(oakfield, estab, secret, field):
    from django.core.exceptions import ValidationError

    from tenants.users.models import User

    before, log = saved(oakfield), change_log(oakfield)
    with in_school(oakfield), pytest.raises(ValidationError) as refused:
        services.connection_save(user=User.objects.get(email=oakfield.demo.head_email), estab=estab, secret=secret)

    assert field in refused.value.message_dict
    assert saved(oakfield).secret_sealed == before.secret_sealed and change_log(oakfield) == log


def test_a_first_connection_needs_the_secret(oakfield, admin):
    with in_school(oakfield):
        XporterConnection.objects.all().delete()

    response = admin.post(PAGE, {"action": "save", "estab": "3312001", "secret": ""})

    assert response.status_code == 200 and "Enter the school secret" in response.content.decode()
    assert saved(oakfield) is None


def test_a_teacher_is_refused_and_nothing_changes(oakfield, password):
    teacher = school_client(oakfield, oakfield.demo.teacher_email, password)
    before = saved(oakfield)

    for data in ({}, {"action": "save", "estab": "3312999", "secret": "x"}, {"action": "off"}, {"action": "test"}):
        assert (teacher.post(PAGE, data) if data else teacher.get(PAGE)).status_code == 403
    assert saved(oakfield).estab == before.estab and saved(oakfield).secret_sealed == before.secret_sealed


def test_the_connection_test_shows_the_scopes_the_school_authorised(oakfield, admin, fake):
    admin.post(PAGE, {"action": "save", "estab": "3312001", "secret": SECRET})
    with in_school(oakfield):
        XporterConnection.objects.update(base_url=fake)

    page = admin.post(PAGE, {"action": "test"}).content.decode()

    assert "Connected" in page and "The connection failed" not in page
    for scope in ("AssessmentResults", "Contact", "SEN", "Student"):
        assert f"<li>{scope}</li>" in page
    assert "<li>UPN</li>" not in page and SECRET not in page


def test_the_connection_test_says_why_it_failed(oakfield, admin, fake):
    admin.post(PAGE, {"action": "save", "estab": "3312001", "secret": "not-the-secret"})
    with in_school(oakfield):
        XporterConnection.objects.update(base_url=fake)

    page = admin.post(PAGE, {"action": "test"}).content.decode()

    assert "The connection failed" in page and "Relying Party not found for estab or secret not correct" in page
    assert "not-the-secret" not in page


def test_a_failed_sync_is_shown_with_when_and_why(oakfield, admin, fake):
    admin.post(PAGE, {"action": "save", "estab": "3312001", "secret": "not-the-secret"})
    admin.post(PAGE, {"action": "on"})
    with in_school(oakfield):
        XporterConnection.objects.update(base_url=fake)
        with pytest.raises(XporterError):
            services.xporter_sync()

    page = admin.get(PAGE).content.decode()

    assert saved(oakfield).last_failure_at is not None
    assert "Relying Party not found for estab or secret not correct" in page


def test_switching_off_stops_the_imports_and_keeps_the_data(oakfield, admin, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.xporter_sync_school, "send", lambda: sent.append(1))
    admin.post(PAGE, {"action": "save", "estab": "3312001", "secret": SECRET})
    admin.post(PAGE, {"action": "on"})
    with in_school(oakfield):
        pupils = Pupil.objects.count()

    assert admin.post(PAGE, {"action": "sync"}).status_code == 302 and sent == [1]  # on: an import on demand
    response = admin.post(PAGE, {"action": "off"})

    assert response.status_code == 302 and saved(oakfield).enabled is False
    assert "the data last imported is kept" in admin.get(PAGE).content.decode()
    admin.post(PAGE, {"action": "sync"})
    assert sent == [1]  # off: nothing queued
    with in_school(oakfield):
        with pytest.raises(services.ImportNotConfigured):
            services.xporter_sync()
        assert Pupil.objects.count() == pupils > 0
    assert change_log(oakfield)[-1] == ["enabled"]


def test_one_schools_admin_never_sees_anothers_connection(oakfield, riverside, admin, password):
    other = school_client(riverside, riverside.demo.head_email, password)
    admin.post(PAGE, {"action": "save", "estab": "3312777", "secret": SECRET})

    page = other.get(PAGE).content.decode()
    other.post(PAGE, {"action": "save", "estab": "3312002", "secret": "riverside-secret"})

    assert "3312777" not in page
    assert saved(oakfield).estab == "3312777" and saved(riverside).estab == "3312002"
    assert services.client_for(saved(oakfield))._credentials["password"] == SECRET
