"""The school's tools for subject requests: export, correction, erasure, restriction, objection
and consent, each refused when it does not fit the request, and leaving nothing half-done."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import schema_context

from ops.demo import SeededSchool
from shared.audit.models import ChangeLogEntry
from shared.changes import Actor
from shared.privacy.models import ErasureLedgerEntry
from shared.privacy.requests.services import request_start
from shared.privacy.retention.registry import policy_for
from tenants.assessment.models import Result, Subject, Target
from tenants.assessment.selectors import cohort_analysis
from tenants.pupils.models import Group, ParentCarer, Pupil, PupilParent
from tenants.rights import services
from tenants.rights.models import Consent, ExportLink, SchoolRequest
from tenants.users.models import User

pytestmark = pytest.mark.django_db


def head_of(school: SeededSchool) -> User:
    return User.objects.get(email=school.demo.head_email)


def open_request(school: SeededSchool, kind: str, subject) -> SchoolRequest:
    head = head_of(school)
    request = services.school_request_receive(user=head, kind=kind, requester_name="A Parent", subject=subject)
    return request_start(actor=Actor.school_user(head, school.school.schema_name), request=request)


def pupil_with_everything(school: SeededSchool) -> Pupil:
    """A pupil with results, targets, a parent, a group, a consent and a site account."""
    return (Pupil.objects.filter(results__isnull=False, targets__isnull=False, parent_links__isnull=False,
                                 groups__isnull=False).exclude(user=None).distinct().first()
            or Pupil.objects.filter(results__isnull=False, parent_links__isnull=False).distinct().first())


def test_an_access_export_holds_every_classified_field_about_the_pupil_and_nothing_about_another(oakfield):
    with schema_context(oakfield.school.schema_name):
        pupil = pupil_with_everything(oakfield)
        services.consent_record(user=head_of(oakfield), purpose="Photographs on reports", pupil=pupil)
        request = open_request(oakfield, SchoolRequest.Kind.ACCESS, pupil)
        link, token = services.export_build(user=head_of(oakfield), request=request)
        _, content = services.export_download(token=token)
        others = set(Pupil.objects.exclude(pk=pupil.pk).values_list("pk", flat=True))
        other_names = {f"{p.forename} {p.surname}" for p in Pupil.objects.exclude(pk=pupil.pk)} - {str(pupil)}
        expected = {
            "pupils.Pupil": 1,
            "assessment.Result": Result.objects.filter(pupil=pupil).count(),
            "assessment.Target": Target.objects.filter(pupil=pupil).count(),
            "pupils.PupilParent": PupilParent.objects.filter(pupil=pupil).count(),
            "pupils.Group": Group.objects.filter(pupils=pupil).count(),
            "rights.Consent": 1,
        }

    archive = zipfile.ZipFile(io.BytesIO(content))
    document = json.loads(archive.read("export.json"))
    records = document["records"]
    for label, count in expected.items():
        assert len(records.get(label, [])) == count, label
    # Every classified field of the pupil's own record and of the records about them, nothing withheld.
    for label in ("pupils.Pupil", "assessment.Result", "assessment.Target", "pupils.PupilParent", "rights.Consent"):
        policy = policy_for(apps.get_model(label))
        for row in records[label]:
            assert policy.fields - policy.withheld <= set(row), (label, policy.fields - set(row))
    assert records["pupils.Pupil"][0]["upn"] == pupil.upn and records["pupils.Pupil"][0]["forename"] == pupil.forename
    # Nothing about any other pupil: no other pupil's id in a pupil field, no other pupil's name.
    for label, rows in records.items():
        for row in rows:
            for key in ("pupil", "pupils", "children"):
                values = row.get(key)
                values = values if isinstance(values, list) else [values] if values is not None else []
                assert not set(values) & others, (label, key)
    text = archive.read("export.json").decode()
    assert not any(name in text for name in other_names)
    assert {"export.json", "README.txt", "pupils_pupil.csv", "assessment_result.csv"} <= set(archive.namelist())
    assert "password" not in json.dumps(records.get("users.User", []))


def test_the_export_link_works_once_and_expires(oakfield, settings):
    with schema_context(oakfield.school.schema_name):
        request = open_request(oakfield, SchoolRequest.Kind.PORTABILITY, Pupil.objects.first())
        link, token = services.export_build(user=head_of(oakfield), request=request)
        assert token not in link.token_digest
        services.export_download(token=token)
        with pytest.raises(services.ExportUnavailable):
            services.export_download(token=token)
        _, late = services.export_build(user=head_of(oakfield), request=request)
        ExportLink.objects.filter(request=request, downloaded_at=None).update(expires_at="2000-01-01T00:00:00Z")
        with pytest.raises(services.ExportUnavailable, match="expired"):
            services.export_download(token=late)
        with pytest.raises(services.ExportUnavailable):
            services.export_download(token="made-up")


def test_correction_goes_through_validation_and_is_change_logged(oakfield):
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.first()
        request = open_request(oakfield, SchoolRequest.Kind.CORRECTION, pupil)
        with pytest.raises(ValidationError):
            services.subject_correct(user=head_of(oakfield), request=request, changes={"upn": "X"})
        with pytest.raises(ValidationError):
            services.subject_correct(user=head_of(oakfield), request=request, changes={"forename": ""})
        pupil.refresh_from_db()
        assert pupil.forename
        assert services.subject_correct(user=head_of(oakfield), request=request, changes={"forename": "Corrected"}) == ["forename"]
        assert Pupil.objects.get(pk=pupil.pk).forename == "Corrected"
        entry = ChangeLogEntry.objects.filter(object_type="pupils.pupil", object_id=str(pupil.pk)).latest("id")
        assert entry.fields == ["forename"] and "Corrected" not in str(entry.__dict__)


def test_a_tool_that_does_not_fit_the_request_changes_nothing(oakfield):
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.first()
        access = open_request(oakfield, SchoolRequest.Kind.ACCESS, pupil)
        received = services.school_request_receive(user=head_of(oakfield), kind="erasure", requester_name="X", subject=pupil)
        before = (Pupil.objects.count(), ErasureLedgerEntry.objects.count(), ExportLink.objects.count())
        with pytest.raises(ValidationError):
            services.subject_erase(user=head_of(oakfield), request=access)
        with pytest.raises(ValidationError, match="in progress"):
            services.subject_erase(user=head_of(oakfield), request=received)  # identity not yet confirmed
        with pytest.raises(ValidationError):
            services.export_build(user=head_of(oakfield), request=received)
        assert (Pupil.objects.count(), ErasureLedgerEntry.objects.count(), ExportLink.objects.count()) == before


def test_erasure_deletes_the_pupil_their_records_and_account_and_writes_the_ledger(oakfield, riverside):
    with schema_context(riverside.school.schema_name):
        riverside_pupils = Pupil.objects.count()
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.exclude(user=None).first() or Pupil.objects.first()
        account_id, pupil_id = pupil.user_id, pupil.pk
        request = open_request(oakfield, SchoolRequest.Kind.ERASURE, pupil)
        services.subject_erase(user=head_of(oakfield), request=request)
        assert not Pupil.objects.filter(pk=pupil_id).exists()
        assert not Result.objects.filter(pupil_id=pupil_id).exists() and not PupilParent.objects.filter(pupil_id=pupil_id).exists()
        if account_id:
            assert not User.objects.filter(pk=account_id).exists()
        request.refresh_from_db()
        assert request.state == SchoolRequest.State.COMPLETED and request.subject_label == str(pupil)
    entries = ErasureLedgerEntry.objects.filter(school=oakfield.school)
    assert entries.filter(model="pupils.Pupil", object_id=pupil_id).exists()
    assert all(pupil.forename not in str(e.__dict__) and (pupil.xporter_id or "@") not in str(e.__dict__) for e in entries)
    with schema_context(riverside.school.schema_name):
        assert Pupil.objects.count() == riverside_pupils


def test_restriction_and_objection_keep_the_data_but_stop_analytics(oakfield):
    with schema_context(oakfield.school.schema_name):
        subject = Subject.objects.first()
        pupil = Pupil.objects.filter(results__aspect__subject=subject, results__aspect__is_headline=True).first()
        counted = lambda: sum(r.pupils for r in cohort_analysis(pupils=Pupil.objects.all(), subject=subject)["Year"])  # noqa: E731
        before = counted()
        services.subject_flag(user=head_of(oakfield), request=open_request(oakfield, SchoolRequest.Kind.RESTRICTION, pupil))
        assert Pupil.objects.get(pk=pupil.pk).processing_restricted and counted() == before - 1
        assert Result.objects.filter(pupil=pupil).exists()  # kept
        other = Pupil.objects.filter(results__aspect__subject=subject).exclude(pk=pupil.pk).first()
        services.subject_flag(user=head_of(oakfield), request=open_request(oakfield, SchoolRequest.Kind.OBJECTION, other))
        assert counted() == before - 2


def test_consent_is_recorded_and_withdrawn_once(oakfield):
    with schema_context(oakfield.school.schema_name):
        parent = ParentCarer.objects.first()
        consent = services.consent_record(user=head_of(oakfield), purpose="Emails about trips", parent=parent)
        assert consent.active
        services.consent_withdraw(user=head_of(oakfield), consent=consent)
        assert not Consent.objects.get(pk=consent.pk).active
        with pytest.raises(ValidationError):
            services.consent_withdraw(user=head_of(oakfield), consent=consent)
        with pytest.raises(ValidationError):
            services.consent_record(user=head_of(oakfield), purpose=" ", parent=parent)


def test_a_request_forwarded_by_the_vendor_appears_in_the_schools_list(oakfield):
    from orchestration.requests import request_forward_to_school
    from shared.operators.models import Operator
    from shared.privacy.requests.services import request_receive

    actor = Actor.operator(Operator.objects.get(role=Operator.Role.DPO).user)
    vendor = request_receive(actor=actor, kind="access", requester_name="A Parent", details="About my son at Oakfield")
    request_forward_to_school(actor=actor, request=vendor, school=oakfield.school)
    assert connection.schema_name == "public"
    with schema_context(oakfield.school.schema_name):
        mine = SchoolRequest.objects.get(vendor_request_id=vendor.pk)
        assert mine.received_on == vendor.received_on and mine.details == vendor.details


def test_the_weekday_actor_flags_a_schools_overdue_request(oakfield):
    from structlog.testing import capture_logs

    from orchestration.tasks import subject_requests_flag

    with schema_context(oakfield.school.schema_name):
        late = services.school_request_receive(user=head_of(oakfield), kind="access", requester_name="A Parent",
                                               subject=Pupil.objects.first(), received_on=dt.date(2026, 1, 5))
    with capture_logs() as logs:
        subject_requests_flag()

    flagged = [e for e in logs if e["event"] == "school_request.overdue" and e["request_id"] == late.pk]
    assert flagged and flagged[0]["school_id"] == oakfield.school.pk and flagged[0]["deadline"] == "2026-02-05"
