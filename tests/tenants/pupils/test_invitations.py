"""Bulk invitation of parents and carers: the preview, one background job that creates the accounts
and mails each invitation (to a real SMTP server), the restricted left out, double submit."""

from __future__ import annotations

import time
import uuid

import pytest
from django_tenants.utils import schema_context

from shared.mail.models import OutgoingMessage
from shared.redis_client import redis_client
from tenants.pupils.invitations import _run_key, parent_invitation_preview, parent_invitations_run
from tenants.pupils.models import ParentCarer, Pupil, PupilParent
from tenants.users.models import User
from tenants.users.services import user_create
from tests.helpers import form_token, school_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_run_left(oakfield):
    """Redis is not rolled back with the database: no school's run is left over from another test."""
    def clear():
        with schema_context(oakfield.school.schema_name):
            redis_client().delete(_run_key())

    clear()
    yield
    clear()


@pytest.fixture
def family(oakfield):
    """Parents of new pupils at Oakfield, one of each kind the preview tells apart."""
    tag = uuid.uuid4().hex[:6]
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.create(forename="Pippa", surname=f"Pupil{tag}", upn=f"A{tag.upper()}123456"[:13])
        leaver = Pupil.objects.create(forename="Lee", surname=f"Leaver{tag}", on_roll=False)
        user_create(email=f"taken-{tag}@example.org", full_name="Has Account", role=User.Role.TEACHER)

        def parent(name, email, *, child=pupil, responsibility=True, **flags):
            record = ParentCarer.objects.create(forename=name, surname=f"Family{tag}", email=email, **flags)
            PupilParent.objects.create(pupil=child, parent=record, parental_responsibility=responsibility)
            return record

        people = {
            "invite": parent("Ina", f"ina-{tag}@example.org"),
            "shared": parent("Sam", f"INA-{tag}@example.org"),
            "no_email": parent("Noel", ""),
            "has_account": parent("Tara", f"taken-{tag}@example.org"),
            "restricted": parent("Rita", f"rita-{tag}@example.org", processing_restricted=True),
            "objected": parent("Otto", f"otto-{tag}@example.org", processing_objected=True),
            "no_responsibility": parent("Ned", f"ned-{tag}@example.org", responsibility=False),
            "leaver": parent("Lou", f"lou-{tag}@example.org", child=leaver),
        }
    return people


def admin_of(school, password):
    return school_client(school, school.demo.head_email, password)


def test_the_preview_tells_who_gets_one_and_why_not(oakfield, password, family):
    with schema_context(oakfield.school.schema_name):
        preview = parent_invitation_preview()
    lists = {name: {p.pk for p in getattr(preview, name)} for name in preview.counts}
    assert family["invite"].pk in lists["invite"]
    assert family["shared"].pk in lists["shared_address"]
    assert family["no_email"].pk in lists["no_email"]
    assert family["has_account"].pk in lists["has_account"]
    assert {family["restricted"].pk, family["objected"].pk} <= lists["restricted"]
    listed = set().union(*lists.values())
    assert family["no_responsibility"].pk not in listed and family["leaver"].pk not in listed

    page = admin_of(oakfield, password).get("/users/invite-parents/").content.decode()
    assert f'<td id="count-invite">{preview.counts["invite"]}</td>' in page
    assert f'<td id="count-restricted">{preview.counts["restricted"]}</td>' in page
    assert "Not invited: processing restricted or objected to" in page and "Rita Family" in page


def test_send_queues_one_job_that_invites_everyone_by_mail_and_nobody_else(
        oakfield, password, family, smtp, queued, django_capture_on_commit_callbacks):
    admin = admin_of(oakfield, password)
    with schema_context(oakfield.school.schema_name):
        expected = {p.email.lower() for p in parent_invitation_preview().invite}
        upns = [u for u in Pupil.objects.values_list("upn", flat=True) if u]
        pupil_names = [f"{f} {s}" for f, s in Pupil.objects.values_list("forename", "surname")]
    messages_before = OutgoingMessage.objects.count()

    started = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/users/invite-parents/")
    took = time.perf_counter() - started

    assert response.status_code == 302 and took < 1
    assert queued.actors() == ["parents_invite"]  # one job, nothing sent yet
    assert OutgoingMessage.objects.count() == messages_before
    with schema_context(oakfield.school.schema_name):
        assert parent_invitations_run()["status"] == "queued"

    delivered = queued.run()

    assert {m.to for m in delivered} == expected and len(smtp.messages) == len(expected)
    for message in smtp.messages:
        text, html = smtp.text(message), smtp.html(message)
        assert oakfield.school.name in message["Subject"] and oakfield.school.name in text
        assert any("/accounts/set-password/" in url for url in smtp.links(message))
        assert not any(upn in text or upn in html for upn in upns)
        own = text.split("Dear ", 1)[1].split(",", 1)[0]  # the parent's own name (a pupil may share it)
        assert [name for name in pupil_names if name != own and (name in text or name in html)] == []
    with schema_context(oakfield.school.schema_name):
        run = parent_invitations_run()
        assert (run["status"], run["sent"], run["total"]) == ("done", len(expected), len(expected))
        for kind in ("restricted", "objected", "shared", "no_email", "no_responsibility", "leaver"):
            assert ParentCarer.objects.get(pk=family[kind].pk).user_id is None, kind
        invited = ParentCarer.objects.get(pk=family["invite"].pk).user
        assert invited.role == User.Role.PARENT and not invited.has_usable_password()
        assert parent_invitation_preview().counts["invite"] == 0
    page = admin.get("/users/invite-parents/").content.decode()
    assert "Invitations sent" in page and f'<strong id="run-sent">{len(expected)}</strong>' in page


def test_a_double_submit_sends_once(oakfield, password, family, smtp, queued, django_capture_on_commit_callbacks):
    admin = admin_of(oakfield, password)
    token = form_token(admin.get("/users/invite-parents/"))
    with django_capture_on_commit_callbacks(execute=True):
        first = admin.post("/users/invite-parents/", {"form_token": token})
        second = admin.post("/users/invite-parents/", {"form_token": token}, follow=True)
        third = admin.post("/users/invite-parents/", follow=True)  # a new form while the run waits

    assert first.status_code == 302
    assert "already submitted" in second.content.decode()
    assert "already being sent" in third.content.decode()
    assert queued.actors() == ["parents_invite"]
    delivered = queued.run()
    assert len({m.to for m in delivered}) == len(delivered) == len(smtp.messages)


def test_the_job_run_again_sends_nothing_twice(oakfield, password, family, smtp, queued,
                                               django_capture_on_commit_callbacks):
    admin = admin_of(oakfield, password)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post("/users/invite-parents/")
    (message,) = list(queued)
    first = queued.run()
    from tenants.pupils.tasks import parents_invite

    with schema_context(oakfield.school.schema_name):
        parents_invite.fn(*message.args)  # a retry of the finished job
    assert queued.run() == [] and len(smtp.messages) == len(first)


def test_only_the_school_admin_sees_or_sends_it(oakfield, password, queued):
    teacher = school_client(oakfield, oakfield.demo.teacher_email, password)
    assert teacher.get("/users/invite-parents/").status_code == 403
    assert teacher.post("/users/invite-parents/").status_code == 403
    assert queued == []


def test_a_lost_run_stops_blocking_a_new_one_after_an_hour(oakfield, password, family, queued, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    import datetime as dt

    from shared import clock

    moment = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)
    admin = admin_of(oakfield, password)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post("/users/invite-parents/")
    queued.clear()  # the job is lost (the broker's data gone)
    monkeypatch.setattr(clock, "now", lambda: moment + dt.timedelta(minutes=59))
    with django_capture_on_commit_callbacks(execute=True):
        refused = admin.post("/users/invite-parents/", follow=True)
    assert "already being sent" in refused.content.decode() and queued == []

    monkeypatch.setattr(clock, "now", lambda: moment + dt.timedelta(minutes=61))
    with django_capture_on_commit_callbacks(execute=True):
        admin.post("/users/invite-parents/")
    assert queued.actors() == ["parents_invite"]


def test_a_bad_address_from_the_import_is_skipped_and_the_others_still_invited(
        oakfield, password, family, smtp, queued, django_capture_on_commit_callbacks):
    with schema_context(oakfield.school.schema_name):
        bad = family["invite"]
        ParentCarer.objects.filter(pk=bad.pk).update(email="not an address")
        users_before = User.objects.count()
        expected = len(parent_invitation_preview().invite) - 1
    with django_capture_on_commit_callbacks(execute=True):
        admin_of(oakfield, password).post("/users/invite-parents/")

    delivered = queued.run()

    assert len(delivered) == expected
    with schema_context(oakfield.school.schema_name):
        run = parent_invitations_run()
        assert (run["status"], run["sent"], run["skipped"]) == ("done", expected, 1)
        assert ParentCarer.objects.get(pk=bad.pk).user_id is None
        assert User.objects.count() == users_before + expected
