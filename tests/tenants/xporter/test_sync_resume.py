"""A sync broken between two pages of a changeset, then run again, ends where an unbroken one
ends: the same rows and the same stored token (the token moves only with every page applied).
And a changeset is kept per endpoint with its exact options and parameters."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from ops.xporter_fake import FakeSchool, FakeXporter, serve_in_thread
from tenants.pupils.models import Pupil
from tenants.xporter import services
from tenants.xporter.client import XporterClient, XporterError
from tenants.xporter.models import ImportRun, XporterConnection
from tests.tenants.xporter.test_import import in_school  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
ESTAB = "3318888"


def _school() -> FakeSchool:
    return FakeSchool(estab=ESTAB, pupils=24, contacts_per_pupil=1, results_per_pupil=4)


def _change(school: FakeSchool) -> None:
    for n in range(1, 16):  # more than one page of 10
        school.change_pupil(f"S{n:05d}", Surname=f"Changed{n}")
    school.delete_pupil("S00020")


def _state() -> tuple:
    pupils = sorted(Pupil.objects.values_list("xporter_id", "surname", "on_roll", "leaving_date", "row_hash"))
    return pupils, XporterConnection.objects.get().cursors


def _synced(app: FakeXporter, school: FakeSchool, *, break_second_page: bool) -> tuple:
    """A first sync, a change, then the incremental sync (broken on page 2 of Students first, if
    asked); returns the school's rows and stored tokens."""
    base_url, server = serve_in_thread(app)
    try:
        XporterConnection.objects.create(base_url=base_url, estab=ESTAB, relying_party="pt", password=school.password)
        client = XporterClient(base_url=base_url, estab=ESTAB, relying_party="pt", password=school.password,
                               retries=2, backoff=0, page_size=10)
        services.xporter_sync(client=client)
        _change(school)
        if break_second_page:
            before = _state()
            app.break_page("Students", 2, times=3)  # more than the retries
            app.requests.clear(), app.queries.clear()
            with pytest.raises(XporterError, match="Students: HTTP 500"):
                services.xporter_sync(client=client)
            assert _state() == before  # nothing applied, the token where it was
            assert ImportRun.objects.first().status == ImportRun.Status.FAILED
            asked = [q for r, q in zip(app.requests, app.queries) if r.endswith("/Students/") and q.get("page") == "2"]
            assert len(asked) == 3 and len({q["changedRows"] for q in asked}) == 1
        services.xporter_sync(client=client)
        return _state()
    finally:
        server.shutdown()


def test_a_sync_broken_between_two_pages_then_rerun_ends_as_an_unbroken_one(in_school):  # noqa: F811
    from orchestration.provisioning import school_provision

    school_a = _school()
    resumed = _synced(FakeXporter([school_a]), school_a, break_second_page=True)
    with schema_context("public"):
        other = school_provision(name="Unbroken School", subdomain="unbroken", admin_email="head@unbroken.example").school
    with schema_context(other.schema_name):
        school_b = _school()
        unbroken = _synced(FakeXporter([school_b]), school_b, break_second_page=False)

    assert resumed == unbroken
    pupils, cursors = resumed
    assert {p[0]: p[1] for p in pupils}["S00015"] == "Changed15"
    assert {p[0]: p[2] for p in pupils}["S00020"] is False  # arrived in Students_deleted
    assert len(cursors["Students"]) == 32


def test_changing_a_changesets_options_restarts_it_at_star_not_with_the_old_token(in_school, monkeypatch):  # noqa: F811
    school = _school()
    app = FakeXporter([school])
    base_url, server = serve_in_thread(app)
    try:
        XporterConnection.objects.create(base_url=base_url, estab=ESTAB, relying_party="pt", password=school.password)
        services.xporter_sync()
        old = XporterConnection.objects.get().cursors
        monkeypatch.setitem(services.OPTIONS, "Students", "includeLeavers")
        app.queries.clear()

        run = services.xporter_sync()

        students = [q for q in app.queries if "changedRows" in q and q.get("options") == "includeLeavers"]
        assert students and all(q["changedRows"] == "*" for q in students)
        groups = [q for q in app.queries if q.get("options") == "includeMembersIds"]
        assert groups and groups[0]["changedRows"] == old["Groups?options=includeMembersIds"]
        cursors = XporterConnection.objects.get().cursors
        assert "Students" not in cursors and "Students?options=includeLeavers" in cursors
        assert "Students.left" not in run.counts  # no false deletions
    finally:
        server.shutdown()
