"""A malformed Xporter file (not JSON, nested too deep, NaN/Infinity/1e400, wrong types, NUL
characters, dates out of range, two results for one pupil, aspect and date) is refused with a
message naming the record and field; nothing changes, and the import history records the failure
with its reason."""

from __future__ import annotations

import io
import json

import pytest
from django_tenants.utils import schema_context

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
    return '{"AssessmentStructure": {"GradeSets": [{"Id": "GS", "Name": "Steps", "Grades": ' + grades + "}]}}"


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


BAD_FILES = [
    (deep(100_000), "the file is nested too deeply to be an Xporter export"),
    ('{"Students": [{"Id": "N1", "Forename": ' + deep(500) + ', "Surname": "B"}]}',
     "Students row N1: Forename is a list, not a value"),
    ('{"AssessmentStructure": {"Subjects": 5}}', "AssessmentStructure Subjects: expected a list of rows, not a number"),
    ('{"Students": "abc"}', "Students: expected a list of rows, not text"),
    ('{"Students": [], "Students_deleted": 7}', "Students_deleted: expected a list of rows, not a number"),
    (grade_sets('"abc"'), "GradeSets row GS Grades: expected a list of rows, not text"),
    (grade_sets('[{"Label": "A", "Points": 1e400}]'), "the file holds the number 1e400, which is too large"),
    (grade_sets('[{"Label": "A", "Points": NaN}]'), "the file holds NaN, which is not a number"),
    (grade_sets('[{"Label": "A", "Points": -Infinity}]'), "the file holds -Infinity, which is not a number"),
    (grade_sets('[{"Label": "A", "Points": 1e10}]'),
     "GradeSets row GS Grades row 0: Points '10000000000.0' is not a number between -9999.99 and 9999.99"),
    ('{"Students": [{"Id": "N1", "Forename": "A\\u0000", "Surname": "B"}]}', "Students row N1: Forename holds a NUL character"),
    ('{"Students": [{"Id": "N1", "Forename": "A", "Surname": "B", "DateofBirth": "9999-12-31"}]}',
     "Students row N1: DateofBirth 9999-12-31 is out of range: Enter a date between 1 January 1900 and today."),
    ('{"Groups": [{"Id": "G1", "GroupType": "TeachingGroup", "Name": "X", "MemberIds": [{"a": 1}]}]}',
     "Groups row G1: MemberIds is not a list of values"),
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
    return {"AssessmentStructure": school.structure(),
            "Students": [row for _, row in school.tables["Students"].values()],
            "AssessmentResults": [row for _, row in school.tables["AssessmentResults"].values()]}


def test_two_results_for_one_pupil_aspect_and_date_are_refused(in_school, fake):  # noqa: F811
    school, _, _ = fake
    document = fake_document(school)
    first = next(row for row in document["AssessmentResults"] if not row["IsTarget"])
    document["AssessmentResults"].append(dict(first, Id="R-SECOND", RowHash="x"))
    before = counts()

    with pytest.raises(ImportRejected) as refused:
        services.xporter_file_import(content=json.dumps(document))

    assert str(refused.value) == (f"AssessmentResults row R-SECOND: Date gives a second result for StudentId "
                                  f"{first['StudentId']!r} and AspectId {first['AspectId']!r} on {first['Date']}, "
                                  f"as in row {first['Id']}")
    assert counts() == before
    assert (ImportRun.objects.first().status, ImportRun.objects.first().error) == (ImportRun.Status.FAILED, str(refused.value))


def test_a_result_clashing_with_one_typed_at_the_school_is_refused(in_school, fake):  # noqa: F811
    school, _, _ = fake
    document = fake_document(school)
    services.xporter_file_import(document=document)
    first = next(row for row in document["AssessmentResults"] if not row["IsTarget"])
    Result.objects.filter(xporter_id=first["Id"]).update(xporter_id=None)  # as if typed on the marksheet
    before = counts()

    with pytest.raises(ImportRejected, match=rf"AssessmentResults row {first['Id']}: Date gives a second result for "
                                             r"that pupil and aspect on .*, as a result typed at the school"):
        services.xporter_file_import(document=document)

    assert counts() == before
    assert ImportRun.objects.first().status == ImportRun.Status.FAILED


def test_two_headline_aspects_for_one_subject_are_refused(in_school, fake):  # noqa: F811
    school, _, _ = fake
    document = fake_document(school)
    headline = next(a for a in document["AssessmentStructure"]["Aspects"] if a["IsHeadline"])
    document["AssessmentStructure"]["Aspects"].append(dict(headline, Id="A-OTHER", Name="Other"))

    with pytest.raises(ImportRejected, match=rf"Aspects row A-OTHER: IsHeadline makes a second headline aspect for "
                                             rf"SubjectId {headline['SubjectId']!r}, as in row {headline['Id']}"):
        services.xporter_file_import(document=document)

    assert counts() == {model.__name__: 0 for model in MODELS}


def test_a_sync_whose_fetch_fails_is_recorded_in_the_history(connected):  # noqa: F811
    _, app = connected
    before = (counts(), ImportRun.objects.count())
    XporterConnection.objects.update(estab="0000000")  # the fake knows no such school

    with pytest.raises(XporterError) as failed:
        services.xporter_sync()

    run = ImportRun.objects.first()
    assert (run.source, run.status, run.error) == (ImportRun.Source.API, ImportRun.Status.FAILED, str(failed.value))
    assert (counts(), ImportRun.objects.count()) == (before[0], before[1] + 1)
