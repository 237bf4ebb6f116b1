"""A malformed Xporter file (not JSON, nested too deep, NaN/Infinity/1e400, wrong types, NUL
characters, dates out of range, two results for one pupil, aspect and date) is refused with a
message naming the record and field; nothing changes, and the import history records the failure
with its reason."""

from __future__ import annotations

import io
import json

import pytest
from django_tenants.utils import schema_context

from ops.xporter_fake import TARGET_RESULT_SET
from tenants.assessment.models import Aspect, Grade, GradeSet, Result, Subject, Target
from tenants.pupils.models import Group, ParentCarer, Pupil, PupilParent
from tenants.xporter import services
from tenants.xporter.client import XporterError
from tenants.xporter.models import ImportRun, XporterConnection
from tenants.xporter.parse import ImportRejected
from tests.portal.test_site import signed_in
from tests.tenants.xporter.test_import import connected, fake, in_school  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
MODELS = (Pupil, ParentCarer, PupilParent, Group, Subject, GradeSet, Grade, Aspect, Result, Target)


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in MODELS}


def grade_sets(grades: str) -> str:
    return '{"GradeSets": [{"Id": "GS", "Name": "Steps"}], "GradeSetHistory": [{"Id": "H", "GradeSetId": "GS"}], "Grades": ' + grades + "}"


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


BAD_FILES = [
    (deep(100_000), "the file is nested too deeply to be an Xporter export"),
    ('{"Students": [{"Id": "N1", "Forename": ' + deep(500) + ', "Surname": "B"}]}',
     "Students row N1: Forename is a list, not a value"),
    ('{"Aspects": 5}', "Aspects: expected a list of rows, not a number"),
    ('{"AssessmentStructure": {}}', "AssessmentStructure: not a result set Xporter sends (it sends Aspects, ResultSets, GradeSets and Grades)"),
    ('{"Students": "abc"}', "Students: expected a list of rows, not text"),
    ('{"Students": [], "Students_deleted": 7}', "Students_deleted: expected a list of rows, not a number"),
    (grade_sets('"abc"'), "Grades: expected a list of rows, not text"),
    (grade_sets('[{"Id": "G1", "GradeSetHistoryId": "H", "Value": "A", "NumericValue": 1e400}]'), "the file holds the number 1e400, which is too large"),
    (grade_sets('[{"Id": "G1", "GradeSetHistoryId": "H", "Value": "A", "NumericValue": NaN}]'), "the file holds NaN, which is not a number"),
    (grade_sets('[{"Id": "G1", "GradeSetHistoryId": "H", "Value": "A", "NumericValue": -Infinity}]'), "the file holds -Infinity, which is not a number"),
    (grade_sets('[{"Id": "G1", "GradeSetHistoryId": "H", "Value": "A", "NumericValue": 1e10}]'),
     "Grades row G1: NumericValue '10000000000.0' is not a number between -9999.99 and 9999.99"),
    (grade_sets('[{"Id": "G1", "GradeSetHistoryId": "NOPE", "Value": "A"}]'), "Grades row G1: GradeSetHistoryId 'NOPE' is not the history of a grade set"),
    ('{"Students": [{"Id": "N1", "Forename": "A\\u0000", "Surname": "B"}]}', "Students row N1: Forename holds a NUL character"),
    ('{"Students": [{"Id": "N1", "Forename": "A", "Surname": "B", "DateofBirth": "9999-12-31"}]}',
     "Students row N1: DateofBirth 9999-12-31 is out of range: Enter a date between 1 January 1900 and today."),
    ('{"Group": [{"Id": "G1", "Type": "TeachingGrp", "Name": "X", "StudentIds": [{"a": 1}]}]}',
     "Group row G1: StudentIds is a list, not a value"),
    ('{"Group": [{"Id": "G1", "Type": "Club", "Name": "X"}]}',
     "Group row G1: Type 'Club' is not one of YearGrp, RegGrp, TeachingGrp, HouseGrp"),
    ('{"Students": [{"Id": "N1", "Forename": "A", "Surname": "B", "SENProvision": "Q"}]}',
     "Students row N1: SENProvision 'Q' is not one of N, K, E (or the older S, A, P)"),
    ('{"Students": [{"Id": "N1", "Forename": "A", "Surname": "B", "FSMEligible": 7}]}',
     "Students row N1: FSMEligible 7 is not a yes/no flag"),
    ('{"Students": [{"Id": "N1", "Forename": "A", "Surname": "B", "EthnicityCode": "White - British"}]}',
     "Students row N1: EthnicityCode is longer than 10 characters"),
    ('{"StudentContact": [{"Id": "L1", "StudentId": "1", "ContactId": "2", "ParResp": "maybe"}]}',
     "StudentContact row L1: ParResp 'maybe' is not a yes/no flag"),
    ('{"Students": [{"Id": {"x": 1}}]}', "Students: a row has no Id"),
    ("{'Students': []}", "the file is not JSON (Expecting property name enclosed in double quotes at line 1, column 2)"),
    (b'{"Students": "\xff"}', "the file is not UTF-8 text"),
]


@pytest.mark.parametrize(("content", "message"), BAD_FILES, ids=[m[:40] for _, m in BAD_FILES])
def test_a_malformed_upload_is_refused_naming_the_record_and_recorded(oakfield, password, content, message):
    admin = signed_in(oakfield, oakfield.demo.head_email, password)
    upload = io.BytesIO(content if isinstance(content, bytes) else content.encode())
    upload.name = "export.json"
    with schema_context(oakfield.school.schema_name):
        before, runs = counts(), ImportRun.objects.count()

    response = admin.post("/import/", {"file": upload}, follow=True)

    assert response.status_code == 200
    assert f"Nothing was imported: {message}".encode() in response.content.replace(b"&#x27;", b"'")
    with schema_context(oakfield.school.schema_name):
        assert counts() == before
        assert ImportRun.objects.count() == runs + 1
        run = ImportRun.objects.first()
        assert (run.source, run.status, run.error) == (ImportRun.Source.FILE, ImportRun.Status.FAILED, message)


def fake_document(school) -> dict:
    return school.document(("assessmentstructure", "Students", "assessmentresults"))


def test_two_results_for_one_pupil_aspect_and_date_are_refused(in_school, fake):  # noqa: F811
    school, _, _ = fake
    document = fake_document(school)
    first = next(row for row in document["AsmResults"] if row["ResultSetId"] != TARGET_RESULT_SET)
    document["AsmResults"].append(dict(first, Id="R-SECOND", RowHash="x"))
    before = counts()

    with pytest.raises(ImportRejected) as refused:
        services.xporter_file_import(content=json.dumps(document))

    assert str(refused.value) == (f"AsmResults row R-SECOND: ResultDate gives a second result for StudentId "
                                  f"{first['StudentId']!r} and AspectId {first['AspectId']!r} on {first['ResultDate']}, "
                                  f"as in row {first['Id']}")
    assert counts() == before
    assert (ImportRun.objects.first().status, ImportRun.objects.first().error) == (ImportRun.Status.FAILED, str(refused.value))


def test_a_result_clashing_with_one_typed_at_the_school_is_refused(in_school, fake):  # noqa: F811
    school, _, _ = fake
    document = fake_document(school)
    services.xporter_file_import(document=document)
    first = next(row for row in document["AsmResults"] if row["ResultSetId"] != TARGET_RESULT_SET)
    Result.objects.filter(xporter_id=first["Id"]).update(xporter_id=None)  # as if typed on the marksheet
    before = counts()

    with pytest.raises(ImportRejected, match=rf"AsmResults row {first['Id']}: ResultDate gives a second result for "
                                             r"that pupil and aspect on .*, as a result typed at the school"):
        services.xporter_file_import(document=document)

    assert counts() == before
    assert ImportRun.objects.first().status == ImportRun.Status.FAILED


def test_a_sync_whose_fetch_fails_is_recorded_in_the_history(connected):  # noqa: F811
    _, app = connected
    before = (counts(), ImportRun.objects.count())
    XporterConnection.objects.update(estab="0000000")  # the fake knows no such school

    with pytest.raises(XporterError) as failed:
        services.xporter_sync()

    run = ImportRun.objects.first()
    assert (run.source, run.status, run.error) == (ImportRun.Source.API, ImportRun.Status.FAILED, str(failed.value))
    assert (counts(), ImportRun.objects.count()) == (before[0], before[1] + 1)
