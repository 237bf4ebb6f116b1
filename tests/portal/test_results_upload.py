"""Results from a spreadsheet: the CSV upload's refusals (each naming its row and column, nothing
written), hostile files refused whole, the preview (UPNs masked, formulas shown as text), the
import all or nothing and once, a teacher limited to their groups, and two schools' uploads apart."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from shared import clock
from tenants.assessment import calendar
from tenants.assessment.models import Aspect, Grade, Result
from tenants.pupils.models import Group, Pupil
from tenants.users.models import User
from tests.helpers import rows_written, school_client

pytestmark = pytest.mark.django_db
URL = "/import/results/"
FORMULA = '=HYPERLINK("http://evil.example")'


def setup(school, *, teacher: bool = False):
    with schema_context(school.school.schema_name):
        calendar.calendar_ensure()
        aspect = Aspect.objects.filter(is_headline=True).select_related("grade_set").order_by("pk").first()
        grades = list(Grade.objects.filter(grade_set=aspect.grade_set).order_by("order"))
        pupils = Pupil.objects.filter(on_roll=True, processing_restricted=False, processing_objected=False) \
            .exclude(upn="").order_by("pk")
        if teacher:
            pupils = pupils.filter(groups__staff__email=school.demo.teacher_email).distinct()
        pupils = list(pupils[:4])
    return aspect, grades, pupils


def stage(client, content: bytes, name: str = "results.csv"):
    response = client.post(URL, {"action": "upload", "file": SimpleUploadedFile(name, content, "text/csv")})
    if response.status_code == 302:
        return response["Location"].split("upload=")[1]
    return response


def csv_of(*rows) -> bytes:
    return ("\r\n".join(",".join(row) for row in rows) + "\r\n").encode()


def results_of(school, aspect) -> set:
    with schema_context(school.school.schema_name):
        return set(Result.objects.filter(aspect=aspect).values_list("pupil_id", "recorded_on", "grade_id"))


def import_(client, token, aspect, **mapping):
    data = {"action": "import", "upload": token, "pupil_by": "upn", "pupil": "0", "grade": "1", "date": "2",
            "aspect": aspect.pk if aspect else None, **mapping}
    return client.post(URL, {k: v for k, v in data.items() if v is not None})


def test_a_file_is_previewed_then_imported_all_at_once(oakfield, password):
    aspect, grades, pupils = setup(oakfield)
    client = school_client(oakfield, oakfield.demo.head_email, password)
    day = clock.today() - dt.timedelta(days=3)
    content = "\ufeff".encode() + csv_of(["UPN", "Grade", "Date taken"],
                                         *([p.upn, grades[i].label.lower(), f"{day:%d/%m/%Y}"] for i, p in enumerate(pupils)),
                                         ["", "", ""])
    token = stage(client, content)

    preview = client.get(f"{URL}?upload={token}")
    page = preview.content.decode()
    imported = import_(client, token, aspect)

    assert preview.context["mapping_form"].initial == {"pupil_by": "upn", "pupil": 0, "birth": None, "grade": 1,
                                                       "date": 2}
    assert "(a UPN, not shown)" in page and not any(p.upn in page for p in pupils)
    assert imported.status_code == 302
    assert {(p.pk, day, grades[i].pk) for i, p in enumerate(pupils)} <= results_of(oakfield, aspect)
    followed = client.get(URL).content.decode()
    assert f"Imported {len(pupils)} results of {aspect}" in followed


def test_a_second_import_of_the_same_file_imports_nothing_more(oakfield, password):
    aspect, grades, pupils = setup(oakfield)
    client = school_client(oakfield, oakfield.demo.head_email, password)
    day = clock.today() - dt.timedelta(days=4)
    token = stage(client, csv_of(["UPN", "Grade", "Date"], [pupils[0].upn, grades[1].label, day.isoformat()]))
    first = import_(client, token, aspect)
    written = rows_written()

    second = import_(client, token, aspect)

    assert first.status_code == 302 and second.status_code == 302
    assert "expired or was already imported" in client.get(second["Location"]).content.decode()
    assert rows_written(besides=("technical_visit",)) == written


@pytest.mark.parametrize("content, message", [
    (b"UPN,Grade\r\nA1,EXS\x00\r\n", "contains NUL bytes"),
    (b"UPN,Grade\r\nA1,\xff\xfeEXS\r\n", "not UTF-8 text (the first bad byte is on row 2)"),
    (b"UPN,Grade\r\n\"A1,EXS\r\n", "not valid CSV"),
    (b"UPN,Grade\r\n", "a header row and at least one row"),
    (b"UPN,Grade\r\n" + b"A1,EXS\r\n" * 5001, "the limit is 5000"),
    (b"UPN,Grade\r\n" + b"A" * (2 * 1024 * 1024), "the limit is 2 MB"),
])
def test_a_hostile_file_is_refused_whole_with_a_clear_message(oakfield, password, content, message):
    client = school_client(oakfield, oakfield.demo.head_email, password)
    written = rows_written()

    response = stage(client, content)

    assert response.status_code == 200 and message in response.content.decode()
    assert rows_written(besides=("technical_visit",)) == written


def test_every_wrong_row_is_named_by_row_and_column_and_nothing_is_imported(oakfield, password):
    aspect, grades, pupils = setup(oakfield)
    with schema_context(oakfield.school.schema_name):
        head = User.objects.get(email=oakfield.demo.head_email)
        restricted = Pupil.objects.filter(on_roll=True).exclude(upn="").exclude(pk__in=[p.pk for p in pupils]).first()
        Pupil.objects.filter(pk=restricted.pk).update(processing_restricted=True)
        locked_point = calendar.point_previous(calendar.point_current())
        calendar.point_lock(user=head, point=locked_point)
    client = school_client(oakfield, oakfield.demo.head_email, password)
    good = (clock.today() - dt.timedelta(days=2)).isoformat()
    future = (clock.today() + dt.timedelta(days=3)).isoformat()
    content = csv_of(
        ["UPN", "Score", "Date"],
        [pupils[0].upn, grades[0].label, good],                      # row 2: fine
        ["Z99999999999Q", grades[0].label, good],                    # row 3: no such pupil
        [pupils[1].upn, "A*", good],                                 # row 4: unknown grade
        [pupils[2].upn, grades[0].label, future],                    # row 5: future date
        [pupils[0].upn, grades[1].label, good],                      # row 6: pupil twice on a date
        [restricted.upn, grades[0].label, good],                     # row 7: restricted
        [pupils[3].upn, '"=HYPERLINK(""http://evil.example"")"', good],  # row 8: a formula is only text
        [pupils[3].upn, grades[0].label, locked_point.date.isoformat()],  # row 9: a locked point
        [pupils[1].upn, grades[0].label, "31/02/2026"],              # row 10: not a date
    )
    token = stage(client, content)
    before = results_of(oakfield, aspect)
    written = rows_written()

    response = import_(client, token, aspect)

    page = response.content.decode()
    assert response.status_code == 200 and "Nothing was imported." in page
    errors = response.context["errors"]
    assert errors == [
        "Row 3, “UPN”: no pupil matches this UPN.",
        f"Row 4, “Score”: “A*” is not a grade of {aspect.grade_set.name}.",
        f"Row 5, “Date”: {dt.date.fromisoformat(future):%-d %B %Y} is in the future.",
        "Row 6, “UPN”: the same pupil as row 2, on the same date.",
        "Row 7, “UPN”: this pupil's processing is restricted or objected to, so no results can be added for them.",
        f"Row 8, “Score”: “{FORMULA[:30]}…” is not a grade of {aspect.grade_set.name}.",
        f"Row 9, “Date”: {locked_point.name} is locked, so its results cannot be changed.",
        "Row 10, “Date”: not a date (write it as 31/12/2026 or 2026-12-31).",
    ]
    assert "=HYPERLINK(&quot;http://evil.exampl" in page  # shown as text, escaped
    assert not any(p.upn in page for p in [*pupils, restricted])
    assert rows_written(besides=("technical_visit",)) == written
    assert results_of(oakfield, aspect) == before
    assert client.get(f"{URL}?upload={token}").status_code == 200  # the file is kept to try another mapping


def test_a_teacher_imports_only_for_the_pupils_of_their_groups(oakfield, password):
    aspect, grades, mine = setup(oakfield, teacher=True)
    with schema_context(oakfield.school.schema_name):
        stranger = Pupil.objects.filter(on_roll=True).exclude(upn="").exclude(
            groups__in=Group.objects.filter(staff__email=oakfield.demo.teacher_email)).first()
    client = school_client(oakfield, oakfield.demo.teacher_email, password)
    day = (clock.today() - dt.timedelta(days=1)).isoformat()
    token = stage(client, csv_of(["UPN", "Grade", "Date"], [mine[0].upn, grades[2].label, day],
                                 [stranger.upn, grades[2].label, day]))

    refused = import_(client, token, aspect)
    assert refused.context["errors"] == ["Row 3, “UPN”: no pupil you can see matches this UPN."]
    assert "aspect_subject" not in refused.context["mapping_form"].fields  # only an admin adds aspects

    token = stage(client, csv_of(["UPN", "Grade", "Date"], [mine[0].upn, grades[2].label, day]))
    assert import_(client, token, aspect).status_code == 302
    assert (mine[0].pk, dt.date.fromisoformat(day), grades[2].pk) in results_of(oakfield, aspect)


def test_standardised_scores_by_name_and_birth_date_into_a_new_aspect_at_a_point(oakfield, password):
    aspect, grades, pupils = setup(oakfield)
    with schema_context(oakfield.school.schema_name):
        pupils = [p for p in Pupil.objects.filter(pk__in=[p.pk for p in pupils]) if p.date_of_birth][:2]
        point = calendar.point_previous(calendar.point_current())
    assert len(pupils) == 2
    client = school_client(oakfield, oakfield.demo.head_email, password)
    token = stage(client, csv_of(["Pupil name", "DOB", "Standardised score"],
                                 [f"\"{pupils[0].surname}, {pupils[0].forename}\"", f"{pupils[0].date_of_birth:%d/%m/%Y}", "104"],
                                 [f"{pupils[1].forename}  {pupils[1].surname}", pupils[1].date_of_birth.isoformat(), "87"]))

    response = import_(client, token, None, pupil_by="name_dob", pupil="0", birth="1", grade="2", date="",
                       point=point.pk, aspect_subject=aspect.subject_id, aspect_name="Spring reading test")

    assert response.status_code == 302, response.context and (response.context["errors"],
                                                              response.context["mapping_form"].errors)
    with schema_context(oakfield.school.schema_name):
        new = Aspect.objects.get(subject=aspect.subject, name="Spring reading test")
        assert new.grade_set.expected_from.label == "100"
        saved = set(Result.objects.filter(aspect=new).values_list("pupil_id", "recorded_on", "grade__label"))
    assert saved == {(pupils[0].pk, point.date, "104"), (pupils[1].pk, point.date, "87")}


def test_a_mapping_must_say_how_results_are_dated_and_name_real_columns(oakfield, password):
    aspect, grades, pupils = setup(oakfield)
    client = school_client(oakfield, oakfield.demo.head_email, password)
    token = stage(client, csv_of(["UPN", "Grade"], [pupils[0].upn, grades[0].label]))
    written = rows_written()

    undated = import_(client, token, aspect, date="")
    outside = import_(client, token, aspect, grade="7")

    assert "Choose either a date column or an assessment point" in undated.content.decode()
    assert "Select a valid choice" in outside.content.decode()
    assert rows_written(besides=("technical_visit",)) == written


def test_an_upload_of_one_school_cannot_be_imported_in_another(oakfield, riverside, password):
    aspect, grades, pupils = setup(oakfield)
    ours = school_client(oakfield, oakfield.demo.head_email, password)
    token = stage(ours, csv_of(["UPN", "Grade", "Date"], [pupils[0].upn, grades[0].label,
                                                         (clock.today() - dt.timedelta(days=1)).isoformat()]))
    theirs = school_client(riverside, riverside.demo.head_email, password)
    other_user = school_client(oakfield, oakfield.demo.teacher_email, password)

    assert theirs.get(f"{URL}?upload={token}").status_code == 302
    assert other_user.get(f"{URL}?upload={token}").status_code == 302
    refused = import_(theirs, token, aspect)
    assert refused.status_code == 302
    assert "expired or was already imported" in theirs.get(refused["Location"]).content.decode()
    assert ours.get(f"{URL}?upload={token}").status_code == 200


def test_a_locked_point_chosen_for_the_whole_file_is_refused_once(oakfield, password):
    aspect, grades, pupils = setup(oakfield)
    with schema_context(oakfield.school.schema_name):
        point = calendar.point_previous(calendar.point_current())
        calendar.point_lock(user=User.objects.get(email=oakfield.demo.head_email), point=point)
    client = school_client(oakfield, oakfield.demo.head_email, password)
    token = stage(client, csv_of(["UPN", "Grade"], *([p.upn, grades[0].label] for p in pupils)))
    written = rows_written()

    response = import_(client, token, aspect, date="", point=point.pk)

    assert response.context["mapping_form"].errors["point"] == [
        f"{point.name} is locked, so its results cannot be changed. A school admin can unlock it."]
    assert rows_written(besides=("technical_visit",)) == written
