"""The Xporter import against the local fake server: full and incremental sync, quirks, retries,
atomic refusal of malformed data, and the file upload path."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django_tenants.utils import schema_context

from ops.xporter_fake import FakeSchool, FakeXporter, documented, serve_in_thread
from tenants.assessment.models import Aspect, Result, Target
from tenants.pupils.models import Group, ParentCarer, Pupil, PupilParent
from tenants.xporter import services
from tenants.xporter.client import XporterClient, XporterError
from tenants.xporter.models import ImportRun, XporterConnection
from tenants.xporter.parse import ImportRejected

pytestmark = pytest.mark.django_db
ESTAB = "3319999"


@pytest.fixture
def fake():
    school = FakeSchool(estab=ESTAB, pupils=24, contacts_per_pupil=2, results_per_pupil=8)
    app = FakeXporter([school])
    base_url, server = serve_in_thread(app)
    yield school, app, base_url
    server.shutdown()


@pytest.fixture
def in_school(django_db_setup):
    """A new, empty school (provisioned inside the test's transaction, so it goes with it)."""
    from orchestration.provisioning import school_provision

    school = school_provision(name="Import Test School", subdomain="importtest", admin_email="head@importtest.example").school
    with schema_context(school.schema_name):
        yield school


@pytest.fixture
def connected(fake, in_school):
    school, app, base_url = fake
    XporterConnection.objects.create(base_url=base_url, estab=ESTAB, relying_party="pupiltracking",
                                     password=school.password, third_party_id="PT")
    return school, app


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in (Pupil, ParentCarer, PupilParent, Group, Result, Target, Aspect)}


def test_a_first_sync_imports_everything_with_the_quirks_handled(connected):
    school, _ = connected

    run = services.xporter_sync()

    assert run.status == ImportRun.Status.SUCCEEDED
    assert counts() == {"Pupil": 24, "ParentCarer": 48, "PupilParent": 48, "Group": 6 * 5, "Result": 24 * 8,
                        "Target": 24 * 4, "Aspect": 4}
    pupil = Pupil.objects.get(xporter_id="S00004")
    raw = next(row for row in documented(school, "Students")["Students"] if row["Id"] == "S00004")
    assert raw["YearGroup"] == "Year  5" and pupil.year_group == "Year 5"  # the double space is gone
    assert pupil.date_of_birth == dt.date.fromisoformat(raw["DateofBirth"])
    assert pupil.registration_group == raw["RegGroup"]
    assert pupil.service_child == (raw["ServiceChild"] == "1") and pupil.fsm == bool(raw["FSMEligible"])
    assert Group.objects.get(xporter_id="G-T4AM").pupils.count() == 2
    cursors = XporterConnection.objects.get().cursors
    assert set(cursors) == {"Students", "Contacts", "StudentContacts", "Groups?options=includeMembersIds",
                            "assessmentresults?Aspects=A-Maths%2CA-Reading%2CA-Science%2CA-Writing"}
    assert all(len(token) == 32 for token in cursors.values())


def test_an_incremental_sync_applies_changes_and_deletions(connected):
    school, app = connected
    services.xporter_sync()
    school.change_pupil("S00003", Surname="Changed", FSM=1)
    school.delete_pupil("S00005")
    new_result = school.add_result("S00003", "A-Maths", "GDS", "2026-03-01")
    before = counts()
    app.requests.clear()

    run = services.xporter_sync()

    assert any("changedRows" not in r for r in app.requests)  # paths only; the query went as params
    assert Pupil.objects.get(xporter_id="S00003").surname == "Changed"
    assert Pupil.objects.get(xporter_id="S00003").fsm is True
    left = Pupil.objects.get(xporter_id="S00005")
    assert (left.on_roll, left.leaving_date) == (False, dt.date.today())
    assert Result.objects.filter(xporter_id=new_result).exists()
    assert counts()["Result"] == before["Result"] + 1
    assert run.counts["Students.updated"] == 1 and run.counts["Students.left"] == 1
    assert run.counts.get("Students.unchanged", 0) == 0  # only the changed row was sent


def test_a_full_resync_with_nothing_changed_skips_every_row(connected):
    services.xporter_sync()
    XporterConnection.objects.update(cursors={})

    run = services.xporter_sync()

    assert not any(key.endswith((".created", ".updated")) for key in run.counts), run.counts
    assert run.counts["Students.unchanged"] == 24 and run.counts["AsmResults.unchanged"] == 24 * 8


def test_pupils_are_matched_on_xporter_id_never_on_upn(connected):
    school, _ = connected
    services.xporter_sync()
    pupil_pk = Pupil.objects.get(xporter_id="S00007").pk
    school.change_pupil("S00007", UPN="Z99999999999Z")

    services.xporter_sync()

    assert Pupil.objects.get(xporter_id="S00007").pk == pupil_pk
    assert Pupil.objects.filter(forename__isnull=False).count() == 24


def test_server_errors_are_retried_with_backoff(fake, in_school):
    school, app, base_url = fake
    app.fail_first = 2
    client = XporterClient(base_url=base_url, estab=ESTAB, relying_party="pt", password=school.password, backoff=0.01)

    result = client.fetch("Students")

    assert len(result.rows) == 24
    assert app.requests.count(f"GET /api/v1/School/{ESTAB}/Students/") == 3


def test_an_error_sent_with_http_200_is_an_error(fake, in_school):
    school, _, base_url = fake
    client = XporterClient(base_url=base_url, estab=ESTAB, relying_party="pt", password=school.password)

    with pytest.raises(XporterError, match="Unknown endpoint Teachers"):
        client.fetch("Teachers")


def test_the_token_is_renewed_before_it_expires(fake, in_school, monkeypatch):
    from tenants.xporter import client as client_module

    school, app, base_url = fake
    client = XporterClient(base_url=base_url, estab=ESTAB, relying_party="pt", password=school.password)
    client.fetch("SchoolInfo")
    later = client._token_expires - dt.timedelta(seconds=30)
    monkeypatch.setattr(client_module.clock, "now", lambda: later)

    client.fetch("SchoolInfo")

    assert app.requests.count("POST /api/oauth/GetToken") == 2


def test_a_malformed_import_changes_nothing(connected):
    school, _ = connected
    services.xporter_sync()
    school.change_pupil("S00002", Surname="Would Change")
    school.change_pupil("S00009", DateofBirth="31/02/2015")
    before = counts()
    cursors = XporterConnection.objects.get().cursors

    with pytest.raises(ImportRejected, match="Students row S00009: DateofBirth '31/02/2015' is not a date"):
        services.xporter_sync()

    assert counts() == before
    assert Pupil.objects.get(xporter_id="S00002").surname != "Would Change"
    assert XporterConnection.objects.get().cursors == cursors
    assert ImportRun.objects.first().status == ImportRun.Status.FAILED


def test_an_uploaded_file_is_imported_the_same_way(in_school, fake):
    school, _, _ = fake
    document = school.document(("assessmentstructure", "Students", "assessmentresults"))

    run = services.xporter_file_import(document=json.loads(json.dumps(document)))

    assert run.source == ImportRun.Source.FILE and run.status == ImportRun.Status.SUCCEEDED
    assert Pupil.objects.count() == 24 and Result.objects.count() == 24 * 8


def test_an_unknown_grade_names_the_record_and_field(in_school, fake):
    school, _, _ = fake
    rows = school.document(("assessmentresults",))["AsmResults"][:3]
    rows[1] = dict(rows[1], Result="Z9")
    document = {**school.document(("assessmentstructure", "Students")), "AsmResults": rows}

    with pytest.raises(ImportRejected, match=rf"AsmResults row {rows[1]['Id']}: Result 'Z9' is not a grade"):
        services.xporter_file_import(document=document)

    assert Pupil.objects.count() == 0


def test_a_school_that_stops_using_xporter_keeps_its_last_import(connected):
    services.xporter_sync()
    XporterConnection.objects.update(enabled=False)

    with pytest.raises(services.ImportNotConfigured):
        services.xporter_sync()

    assert Pupil.objects.count() == 24


def test_the_nightly_actor_runs_in_each_schools_schema(connected, monkeypatch):
    from orchestration.tasks import xporter_sync_all
    from tenants.xporter import tasks

    seen = []
    broker = tasks.xporter_sync_school.broker

    def enqueue(message, *, delay=None):
        from config.broker import SchoolSchemaMiddleware

        SchoolSchemaMiddleware().before_enqueue(broker, message, delay)  # as the broker does
        seen.append(message.options["schema"])
        return message

    monkeypatch.setattr(broker, "enqueue", enqueue)

    xporter_sync_all.fn()

    # Each message carries its school's schema, whichever schema the job was in.
    from shared.schools.selectors import active_school_schemas

    assert len(seen) >= 2 and all(s.startswith("school_") for s in seen)
    assert sorted(seen) == sorted(active_school_schemas())


def test_teachers_are_matched_to_their_groups_through_the_staff_result_set(fake, in_school):
    from tenants.users.models import User
    from tenants.users.services import user_create

    _, app, base_url = fake
    teacher_school = FakeSchool(estab="3319998", pupils=12, contacts_per_pupil=1, results_per_pupil=4,
                                teacher_emails=("t.one@importtest.example", "T.Two@importtest.example"))
    app.schools[teacher_school.estab] = teacher_school
    one = user_create(email="t.one@importtest.example", full_name="T One", role=User.Role.TEACHER)
    two = user_create(email="t.two@importtest.example", full_name="T Two", role=User.Role.TEACHER)
    XporterConnection.objects.create(base_url=base_url, estab=teacher_school.estab, relying_party="pupiltracking",
                                     password=teacher_school.password)
    services.xporter_sync()
    services.xporter_sync()  # an incremental sync with nothing changed keeps the links

    teaching = Group.objects.filter(kind=Group.Kind.TEACHING).order_by("xporter_id")
    assert [list(g.staff.values_list("pk", flat=True)) for g in teaching[:2]] == [[one.pk], [two.pk]]
    assert Group.objects.filter(staff=one).count() == 6 and Group.objects.filter(staff=two).count() == 6


@pytest.mark.parametrize("flag", ["processing_restricted", "processing_objected"])
def test_a_restricted_or_objecting_pupil_is_left_as_they_are_by_the_import_even_when_deleted(connected, flag):
    school, app = connected
    services.xporter_sync()
    Pupil.objects.filter(xporter_id__in=["S00005", "S00006"]).update(**{flag: True})
    held = list(Pupil.objects.filter(xporter_id__in=["S00005", "S00006"]).order_by("xporter_id").values())
    results = sorted(Result.objects.filter(pupil__xporter_id="S00005").values_list("pk", flat=True))
    links = sorted(PupilParent.objects.filter(pupil__xporter_id="S00005").values_list("pk", flat=True))
    school.change_pupil("S00006", Surname="Changed")
    school.delete_pupil("S00005")
    school.delete_pupil("S00007")  # not held: becomes a leaver as usual

    run = services.xporter_sync()

    assert list(Pupil.objects.filter(xporter_id__in=["S00005", "S00006"]).order_by("xporter_id").values()) == held
    assert sorted(Result.objects.filter(pupil__xporter_id="S00005").values_list("pk", flat=True)) == results
    assert sorted(PupilParent.objects.filter(pupil__xporter_id="S00005").values_list("pk", flat=True)) == links
    assert Pupil.objects.get(xporter_id="S00007").on_roll is False
    assert run.counts["Students.left"] == 1
