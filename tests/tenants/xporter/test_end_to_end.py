"""End to end over HTTP against the fake Xporter, in a school of its own: a first sync asks for
``changedRows=*``; a pupil removed from the fake's data arrives in ``Students_deleted`` on the
next incremental sync, becomes a leaver on that import's day, and is deleted by retention once the
school's grace period has run from that day; the SEN, FSM and looked-after status sent in the
documented fields reach the pupil page and the cohort analysis."""

from __future__ import annotations

import datetime as dt

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from ops.xporter_fake import FakeSchool, FakeXporter, documented, serve_in_thread
from orchestration.retention.run import retention_run
from shared import clock
from shared.privacy.models import DeletionRecord
from tenants.assessment.models import Subject
from tenants.assessment.selectors import cohort_analysis
from tenants.pupils.models import Pupil, RetentionSettings
from tenants.users.models import User
from tenants.xporter import services
from tenants.xporter.client import XporterClient
from tenants.xporter.models import XporterConnection
from tests.helpers import school_client

pytestmark = pytest.mark.django_db
ESTAB = "3317777"
FIRST_DAY = dt.date(2026, 3, 10)
SECOND_DAY = dt.date(2026, 3, 11)
GRACE_MONTHS = 6
PASSWORD = "end-to-end-password-1"
GONE = "S00005"


def on(monkeypatch, day: dt.date) -> None:
    monkeypatch.setattr(clock, "today", lambda: day)
    monkeypatch.setattr(clock, "now", lambda: dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC))


class RecordingClient(XporterClient):
    """The product's client, keeping each endpoint's answer of the last sync for the test to read."""

    answers: dict = {}

    def fetch(self, endpoint, **kwargs):
        result = super().fetch(endpoint, **kwargs)
        self.answers[endpoint] = result
        return result


@pytest.fixture
def xporter():
    school = FakeSchool(estab=ESTAB, pupils=18, contacts_per_pupil=1, results_per_pupil=8, seed=13, today=FIRST_DAY)
    # The fake's own tables are compact; what goes over HTTP is checked below in its documented fields.
    school.change_pupil("S00002", SENStatus="E", FSM=1, InCare=1)
    school.change_pupil("S00003", SENStatus="K", FSM=0, InCare=0)
    school.change_pupil("S00004", SENStatus="N", FSM=0, InCare=0)
    app = FakeXporter([school])
    base_url, server = serve_in_thread(app)
    yield school, app, base_url
    server.shutdown()


@pytest.fixture
def site(django_db_setup, xporter, monkeypatch):
    from orchestration.provisioning import school_provision
    from shared.compliance.terms_of_use import terms_accept, terms_current

    fake, _, base_url = xporter
    provisioned = school_provision(name="End To End School", subdomain="endtoend", admin_email="head@endtoend.example")
    with schema_context(provisioned.school.schema_name):
        head = User.objects.get(email="head@endtoend.example")
        head.set_password(PASSWORD)
        head.save()
        TOTPDevice.objects.create(user=head, name="Authenticator app", confirmed=True)
        # as at the admin's first sign-in, or every page sends them to the terms
        terms_accept(user=head, school=provisioned.school, version_id=terms_current().pk, name="Head", ip_address=None)
        RetentionSettings.objects.create(grace_months=GRACE_MONTHS)
        XporterConnection.objects.create(base_url=base_url, estab=ESTAB, relying_party="pupiltracking",
                                         password=fake.password, third_party_id="PT")
    monkeypatch.setattr(services, "client_for", lambda c: RecordingClient(
        base_url=c.base_url, estab=c.estab, relying_party=c.relying_party, password=c.password))
    return provisioned


def students_asked(app: FakeXporter) -> list[dict]:
    return [q for r, q in zip(app.requests, app.queries) if r.endswith("/Students/")]


def test_a_pupil_deleted_in_xporter_leaves_then_goes_after_the_grace_period(site, xporter, monkeypatch):
    fake, app, _ = xporter
    schema = site.school.schema_name
    on(monkeypatch, FIRST_DAY)
    with schema_context(schema):
        services.xporter_sync()
        assert [q.get("changedRows") for q in students_asked(app)] == ["*"]
        assert Pupil.objects.filter(on_roll=True).count() == 18
        first_token = XporterConnection.objects.get().cursors["Students"]

    fake.delete_pupil(GONE)
    app.requests.clear(), app.queries.clear()
    on(monkeypatch, SECOND_DAY)
    with schema_context(schema):
        run = services.xporter_sync()

        assert [q.get("changedRows") for q in students_asked(app)] == [first_token]
        answer = RecordingClient.answers["Students"]
        assert answer.deleted == [{"Id": GONE}] and answer.rows == []  # nothing else changed
        left = Pupil.objects.get(xporter_id=GONE)
        assert (left.on_roll, left.leaving_date) == (False, SECOND_DAY)
        assert run.counts["Students.left"] == 1
        assert XporterConnection.objects.get().cursors["Students"] == answer.next_changed_rows != first_token
        stayers = set(Pupil.objects.filter(on_roll=True).values_list("pk", flat=True))
        assert len(stayers) == 17

    goes_on = clock.add_months(SECOND_DAY, GRACE_MONTHS)
    on(monkeypatch, goes_on - dt.timedelta(days=1))
    retention_run(as_of=goes_on - dt.timedelta(days=1), school_id=site.school.pk, scope="school")
    with schema_context(schema):
        assert Pupil.objects.filter(pk=left.pk).exists()  # still within the grace period

    on(monkeypatch, goes_on)
    retention_run(as_of=goes_on, school_id=site.school.pk, scope="school")

    with schema_context(schema):
        assert not Pupil.objects.filter(pk=left.pk).exists()
        assert set(Pupil.objects.values_list("pk", flat=True)) == stayers
    record = DeletionRecord.objects.get(unit=f"school:{site.school.pk}:pupil:{left.pk}")
    assert (record.category, record.due_on) == ("pupil", goes_on)


def test_sen_fsm_and_looked_after_from_the_documented_fields_reach_the_pupil_page_and_the_analysis(site, xporter, monkeypatch):
    fake, _, _ = xporter
    on(monkeypatch, FIRST_DAY)
    served = {row["Id"]: row for row in documented(fake, "Students")["Students"]}
    assert {k: served["S00002"][k] for k in ("SENProvision", "FSMEligible", "InLeaCare")} == \
        {"SENProvision": "E", "FSMEligible": 1, "InLeaCare": 1}
    assert {k: served["S00004"][k] for k in ("SENProvision", "FSMEligible", "InLeaCare")} == \
        {"SENProvision": None, "FSMEligible": 0, "InLeaCare": 0}
    with schema_context(site.school.schema_name):
        services.xporter_sync()
        pupils = {p.xporter_id: p for p in Pupil.objects.all()}
        subject = Subject.objects.order_by("name").first()
        analysis = cohort_analysis(pupils=Pupil.objects.filter(on_roll=True), subject=subject)
    admin = school_client(site, "head@endtoend.example", PASSWORD)

    cared_for = admin.get(f"/pupils/{pupils['S00002'].pk}/").content.decode()
    supported = admin.get(f"/pupils/{pupils['S00003'].pk}/").content.decode()
    neither = admin.get(f"/pupils/{pupils['S00004'].pk}/").content.decode()

    assert "<dd>Education, health and care plan</dd>" in cared_for
    assert "Free school meals" in cared_for and "Looked after" in cared_for
    assert "<dd>SEN support</dd>" in supported and "Free school meals" not in supported
    assert "<dd>No special provision</dd>" in neither
    assert "Free school meals" not in neither and "Looked after" not in neither
    by_label = {name: {row.label: row.pupils for row in rows} for name, rows in analysis.items()}
    assert by_label["SEN"]["SEN"] == sum(row["SENProvision"] not in (None, "N") for row in served.values())
    assert by_label["FSM"]["FSM"] == sum(row["FSMEligible"] for row in served.values())
    assert by_label["Looked after"]["Looked after"] == sum(row["InLeaCare"] for row in served.values())
    assert by_label["SEN"]["SEN"] >= 2 and by_label["Looked after"]["Looked after"] >= 1
    assert sum(by_label["SEN"].values()) == len(served) == 18
