"""Retention against the database: a cancelled school closes at once, loses its configuration at
3 months and its schema at 6, another school is untouched, and a killed run finishes on rerun."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

from orchestration.provisioning import client_onboard
from orchestration.retention.run import retention_plan, retention_run
from shared.changes import Actor
from shared.clients.selectors import current_contract
from shared.clients.services import contract_cancel, schools_close_on_cancellation
from shared.operators.models import Operator
from shared.privacy.models import DeletionRecord, LegalHold
from shared.schools.models import Domain, School
from tenants.configuration import services as configuration
from tenants.configuration.models import Branding, SchoolDocument
from tenants.configuration.storage import school_folder, school_folder_destroy
from tenants.pupils.models import Pupil
from tenants.users.models import User
from tenants.xporter.models import XporterConnection
from tests.helpers import host_client

pytestmark = pytest.mark.django_db
CANCELLED_ON = dt.date(2026, 12, 31)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def files_in(schema_name: str) -> int:
    folder = school_folder(schema_name)
    return sum(1 for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else 0


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


@pytest.fixture
def cancelled_school():
    actor = Actor.operator(Operator.objects.get(role=Operator.Role.ADMINISTRATOR).user)
    provisioned = client_onboard(actor=actor, name="Closing School", subdomain="closing", admin_email="head@closing.example",
                                 contract_starts_on=dt.date(2025, 9, 1), contact_name="Cara Close")
    school = provisioned.school
    school_folder_destroy(school.schema_name)  # files of an earlier test's school of this name: the disk does not roll back
    with schema_context(school.schema_name):
        XporterConnection.objects.create(estab="3300001", relying_party="pt", password="secret")
        Pupil.objects.create(forename="Ada", surname="Pupil", upn="A123456789012")
        head = User.objects.get(email="head@closing.example")
        configuration.branding_save(user=head, accent_colour="#123456", logo=SimpleUploadedFile("crest.png", PNG))
        configuration.document_upload(user=head, title="Policy", upload=SimpleUploadedFile("policy.pdf", b"%PDF-1.4"))
    contract_cancel(actor=actor, contract=current_contract(school), cancelled_on=CANCELLED_ON)
    # The cancellation date has come (it closes the site then, not when it is recorded ahead of it).
    schools_close_on_cancellation(today=CANCELLED_ON)
    school.refresh_from_db()
    return provisioned


def test_a_cancelled_schools_site_is_closed_from_its_cancellation_date(cancelled_school):
    response = host_client(cancelled_school.hostname).get("/accounts/login/")

    assert response.status_code == 403 and b"This site is closed" in response.content


def test_configuration_goes_at_3_months_and_the_schema_at_6_while_another_school_is_untouched(cancelled_school, oakfield):
    school = cancelled_school.school
    with schema_context(oakfield.school.schema_name):
        oakfield_pupils = Pupil.objects.count()
        configuration.document_upload(user=User.objects.get(email=oakfield.demo.head_email), title="Oakfield's own",
                                      upload=SimpleUploadedFile("mine.pdf", b"%PDF-1.4"))
    oakfield_files = files_in(oakfield.school.schema_name)

    retention_run(as_of=dt.date(2027, 3, 30))
    with schema_context(school.schema_name):
        assert XporterConnection.objects.count() == 1  # the day before 3 months
    assert files_in(school.schema_name) == 2
    retention_run(as_of=dt.date(2027, 3, 31))
    with schema_context(school.schema_name):
        assert XporterConnection.objects.count() == 0 and Pupil.objects.count() == 1
        assert not Branding.objects.exists() and not SchoolDocument.objects.exists()
    assert files_in(school.schema_name) == 0 and not school_folder(school.schema_name).exists()
    assert DeletionRecord.objects.get(kind="school_configuration", school_id=school.pk).records_deleted == 2 + 2 + 1
    retention_run(as_of=dt.date(2027, 6, 29))
    assert schema_exists(school.schema_name)
    retention_run(as_of=dt.date(2027, 6, 30))

    assert not schema_exists(school.schema_name)
    assert not Domain.objects.filter(tenant_id=school.pk).exists()
    assert School.objects.get(pk=school.pk).schema_dropped_at is not None
    assert school.contacts.count() == 1  # the vendor's own records run on their own clocks
    with schema_context(oakfield.school.schema_name):
        assert Pupil.objects.count() == oakfield_pupils
        assert SchoolDocument.objects.filter(title="Oakfield's own").exists()
    assert files_in(oakfield.school.schema_name) == oakfield_files
    records = list(DeletionRecord.objects.filter(school_id=school.pk).values_list("kind", "unit", "category"))
    assert records == [("school_database", f"school:{school.pk}", "pupil"),
                       ("school_configuration", f"school:{school.pk}", "configuration")]


def test_deletion_records_hold_no_personal_data(cancelled_school):
    retention_run(as_of=dt.date(2027, 6, 30))

    dumped = repr(list(DeletionRecord.objects.values()))
    for personal in ("Cara Close", "head@closing.example", "Ada", "A123456789012", "Closing School"):
        assert personal not in dumped


def test_a_hold_on_the_client_stops_every_deletion_path(cancelled_school):
    school = cancelled_school.school
    LegalHold.objects.create(reason="Dispute over termination", owner="dpo", starts_on=dt.date(2027, 1, 1), school=school)

    retention_run(as_of=dt.date(2027, 7, 1))

    assert schema_exists(school.schema_name)
    assert not DeletionRecord.objects.filter(school_id=school.pk).exists()


def test_a_run_killed_mid_way_finishes_on_rerun_with_the_same_records(cancelled_school):
    as_of = dt.date(2040, 1, 1)
    due = retention_plan(as_of=as_of)
    assert len(due) >= 4

    class Killed(Exception):
        pass

    seen = []

    def kill_after_two(item):
        seen.append(item)
        if len(seen) == 2:
            raise Killed

    with pytest.raises(Killed):
        retention_run(as_of=as_of, after_each=kill_after_two)
    half = DeletionRecord.objects.count()
    retention_run(as_of=as_of)
    again = retention_run(as_of=as_of)

    assert half == 2
    assert again.units_deleted == 0  # nothing deleted twice
    recorded = set(DeletionRecord.objects.exclude(kind="visit_rows").values_list("kind", "unit"))
    assert recorded == {(d.record.kind, d.record.key) for d in due}


def test_plan_lists_and_deletes_nothing(cancelled_school, capsys):
    call_command("retention", "plan", "--as-of", "2027-07-01", "--school", "closing")

    out = capsys.readouterr().out
    assert "school_database" in out and "school_configuration" in out and "Nothing has been deleted" in out
    assert schema_exists(cancelled_school.school.schema_name)
    assert DeletionRecord.objects.count() == 0


def test_a_bad_as_of_date_is_a_clear_error():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--as-of must be a date"):
        call_command("retention", "plan", "--as-of", "31/12/2026")


@pytest.mark.parametrize(("grace_months", "goes_on"), [(None, dt.date(2027, 7, 22)), (3, dt.date(2026, 10, 22)),
                                                       (24, dt.date(2028, 7, 22))])
def test_a_leavers_records_go_after_the_schools_grace_period(oakfield, grace_months, goes_on):
    from tenants.pupils.models import ParentCarer, PupilParent, RetentionSettings

    with schema_context(oakfield.school.schema_name):
        if grace_months is not None:
            RetentionSettings.objects.create(grace_months=grace_months)
        leaver = Pupil.objects.create(forename="Lee", surname="Ver", on_roll=False, leaving_date=dt.date(2026, 7, 22))
        only_parent = ParentCarer.objects.create(forename="Pat", surname="Ver")
        PupilParent.objects.create(pupil=leaver, parent=only_parent)
        stayer_count = Pupil.objects.filter(on_roll=True).count()

    retention_run(as_of=goes_on - dt.timedelta(days=1), school_id=oakfield.school.pk, scope="school")
    with schema_context(oakfield.school.schema_name):
        assert Pupil.objects.filter(pk=leaver.pk).exists()
    retention_run(as_of=goes_on, school_id=oakfield.school.pk, scope="school")

    with schema_context(oakfield.school.schema_name):
        assert not Pupil.objects.filter(pk=leaver.pk).exists()
        assert not ParentCarer.objects.filter(pk=only_parent.pk).exists()
        assert Pupil.objects.filter(on_roll=True).count() == stayer_count
    assert DeletionRecord.objects.get(unit=f"school:{oakfield.school.pk}:pupil:{leaver.pk}").category == "pupil"


def test_a_hold_on_one_pupil_keeps_only_that_pupil(oakfield):
    with schema_context(oakfield.school.schema_name):
        kept = Pupil.objects.create(forename="K", surname="Ept", on_roll=False, leaving_date=dt.date(2020, 1, 1))
        gone = Pupil.objects.create(forename="G", surname="One", on_roll=False, leaving_date=dt.date(2020, 1, 1))
    LegalHold.objects.create(reason="Safeguarding review", owner="dpo", person=f"pupil:{oakfield.school.pk}:{kept.pk}",
                             starts_on=dt.date(2026, 1, 1))

    retention_run(as_of=dt.date(2026, 11, 28), school_id=oakfield.school.pk, scope="school")

    with schema_context(oakfield.school.schema_name):
        assert Pupil.objects.filter(pk=kept.pk).exists() and not Pupil.objects.filter(pk=gone.pk).exists()


def test_the_daily_job_sends_one_public_job_and_one_per_school(monkeypatch):
    from orchestration import tasks

    sent = []
    monkeypatch.setattr(tasks.retention_public, "send", lambda day: sent.append(("public", day)))
    monkeypatch.setattr(tasks.retention_school, "send", lambda school_id, day: sent.append(("school", school_id)))

    tasks.retention_daily.fn()

    assert sent[0][0] == "public"
    assert {s[1] for s in sent[1:]} == set(School.objects.filter(schema_dropped_at__isnull=True).values_list("pk", flat=True))


def test_the_operator_prints_a_certificate_once_the_schema_is_gone(cancelled_school):
    from tests.helpers import console_client

    client = console_client(Operator.Role.DPO)
    school = cancelled_school.school
    assert client.get(f"/console/retention/certificates/{school.pk}/").status_code == 404  # not destroyed yet
    retention_run(as_of=dt.date(2027, 6, 30))

    certificate = client.get(f"/console/retention/certificates/{school.pk}/")

    assert certificate.status_code == 200
    assert b"Certificate of destruction" in certificate.content
    assert b"school_database" in certificate.content and b"Closing School" in certificate.content


def test_the_console_calendar_shows_what_falls_due_and_holds_can_be_placed(cancelled_school):
    from tests.helpers import console_client, form_token

    client = console_client(Operator.Role.ADMINISTRATOR)
    page = client.get("/console/retention/")
    response = client.post("/console/retention/", {"reason": "Insurance claim", "owner": "Dan Protection",
                                                   "starts_on": "2026-12-01", "school": cancelled_school.school.pk,
                                                   "form_token": form_token(page)})

    assert response.status_code == 302
    hold = LegalHold.objects.get(reason="Insurance claim")
    assert hold.school_id == cancelled_school.school.pk


def test_operators_can_export_a_cancelled_schools_data_for_return(cancelled_school):
    import io
    import json
    import zipfile

    from shared.audit.models import ChangeLogEntry
    from tests.helpers import console_client

    client = console_client(Operator.Role.DPO)
    response = client.get(f"/console/clients/{cancelled_school.school.pk}/export/")

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("manifest.json"))
    pupils_csv = archive.read("pupils_pupil.csv").decode()
    assert response["Content-Type"] == "application/zip"
    assert manifest["tables"]["pupils_pupil"] == 1 and "A123456789012" in pupils_csv
    assert "password" not in archive.read("users_user.csv").decode().splitlines()[0]
    assert ChangeLogEntry.objects.filter(object_type="schools.school", object_id=str(cancelled_school.school.pk),
                                         action="export").exists()


def test_the_returned_data_holds_no_sign_in_secrets(cancelled_school):
    import io
    import zipfile

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.helpers import console_client

    with schema_context(cancelled_school.school.schema_name):
        device = TOTPDevice.objects.create(user=User.objects.get(role=User.Role.SCHOOL_ADMIN), confirmed=True)

    response = console_client(Operator.Role.DPO).get(f"/console/clients/{cancelled_school.school.pk}/export/")

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert [name for name in archive.namelist() if name.startswith("otp_")] == []
    assert "users_user.csv" in archive.namelist()
    assert [name for name in archive.namelist() if device.key.encode() in archive.read(name)] == []


def test_an_active_schools_data_cannot_be_exported_this_way(oakfield):
    from tests.helpers import console_client

    assert console_client(Operator.Role.ADMINISTRATOR).get(f"/console/clients/{oakfield.school.pk}/export/").status_code == 404
    assert console_client(Operator.Role.SUPPORT).get(f"/console/clients/{oakfield.school.pk}/export/").status_code == 403


def test_a_hold_or_a_shortening_can_name_a_category_and_an_unknown_one_is_refused(oakfield):
    from django.core.exceptions import ValidationError

    from shared.privacy.holds import legal_hold_place, retention_shorten

    actor = Actor.operator(Operator.objects.get(role=Operator.Role.DPO).user)
    hold = legal_hold_place(actor=actor, reason="Tax enquiry", owner="DPO", starts_on=dt.date(2026, 12, 1), category="tax")
    shortening = retention_shorten(actor=actor, school=oakfield.school, category="marketing", months=12, reason="Asked")
    assert hold.category == "tax" and shortening.category == "marketing"
    with pytest.raises(ValidationError):
        legal_hold_place(actor=actor, reason="x", owner="y", starts_on=dt.date(2026, 12, 1), category="nonsense")
    with pytest.raises(ValidationError):
        retention_shorten(actor=actor, school=oakfield.school, category="nonsense", months=1, reason="x")
