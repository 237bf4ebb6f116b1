"""The marksheet per assessment point (previous grade and target beside each entry, a locked point
read-only, a stale form refused naming who changed), and the assessment calendar page (its
refusals, locking, the confirmed and change-logged unlock, the grade sets' standards), in two
schools."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from shared.audit.models import ChangeLogEntry
from tenants.assessment import calendar
from tenants.assessment.models import Aspect, AssessmentPoint, Grade, GradeSet, Result, Target
from tenants.pupils.models import Group, Pupil
from tenants.users.models import User
from tests.helpers import rows_written, school_client

pytestmark = pytest.mark.django_db


def sheet_setup(school):
    """The teacher's first group, the headline aspect of its first subject, its pupils and grades,
    and the current and previous points."""
    with schema_context(school.school.schema_name):
        calendar.calendar_ensure()
        teacher = User.objects.get(email=school.demo.teacher_email)
        group = Group.objects.filter(staff=teacher).order_by("pk").first()
        aspect = Aspect.objects.filter(is_headline=True).select_related("grade_set").order_by("pk").first()
        pupils = list(group.pupils.filter(on_roll=True).order_by("pk"))
        grades = list(Grade.objects.filter(grade_set=aspect.grade_set).order_by("order"))
        current = calendar.point_current()
        previous = calendar.point_previous(current)
    return group, aspect, pupils, grades, current, previous


def url(group, aspect, point=None):
    return f"/groups/{group.pk}/marksheet/?aspect={aspect.pk}" + (f"&point={point.pk}" if point else "")


def test_the_marksheet_opens_at_the_current_point_with_the_previous_grade_and_the_target(oakfield, password):
    group, aspect, pupils, grades, current, previous = sheet_setup(oakfield)
    first = pupils[0]
    with schema_context(oakfield.school.schema_name):
        window = calendar.window_of(previous)
        # Two results in the previous point's window: the later one is "the grade at the previous point".
        Result.objects.update_or_create(pupil=first, aspect=aspect, recorded_on=window.starts_on,
                                        defaults={"grade": grades[0]})
        Result.objects.update_or_create(pupil=first, aspect=aspect, recorded_on=window.ends_on,
                                        defaults={"grade": grades[2]})
        Target.objects.update_or_create(pupil=first, subject=aspect.subject, defaults={"grade": grades[-1],
                                                                                       "due_on": current.date})
    client = school_client(oakfield, oakfield.demo.teacher_email, password)

    response = client.get(url(group, aspect))

    sheet = response.context["sheet"]
    assert sheet.point.pk == current.pk and sheet.previous_point.pk == previous.pk
    row = next(r for r in sheet.rows if r.pupil.pk == first.pk)
    assert (row.previous.pk, row.target.pk) == (grades[2].pk, grades[-1].pk)
    page = response.content.decode()
    assert f'name="point" value="{current.pk}"' in page
    assert f"<td>{grades[2].label}</td><td>{grades[-1].label}</td>" in page
    assert f"Previous <span class=\"muted\">({previous.name})</span>" in page


def test_saving_at_a_point_dates_the_results_at_the_point_and_clearing_empties_its_window(oakfield, password):
    group, aspect, pupils, grades, current, previous = sheet_setup(oakfield)
    client = school_client(oakfield, oakfield.demo.teacher_email, password)
    with schema_context(oakfield.school.schema_name):
        window = calendar.window_of(current)
        Result.objects.update_or_create(pupil=pupils[1], aspect=aspect, recorded_on=window.starts_on,
                                        defaults={"grade": grades[0]})

    response = client.post(url(group, aspect, current).split("?")[0], {
        "aspect": aspect.pk, "point": current.pk, f"pupil-{pupils[0].pk}": grades[3].pk, f"pupil-{pupils[1].pk}": ""})

    assert response.status_code == 302 and f"point={current.pk}" in response["Location"]
    with schema_context(oakfield.school.schema_name):
        in_window = Result.objects.filter(aspect=aspect, recorded_on__range=(window.starts_on, window.ends_on))
        # The point's grade is the latest in its window: the new one, dated the point's day.
        assert in_window.filter(pupil=pupils[0]).values_list("recorded_on", "grade_id").last() == (
            current.date, grades[3].pk)
        assert not in_window.filter(pupil=pupils[1]).exists()


def test_a_locked_point_shows_read_only_with_who_locked_it_and_refuses_a_save(oakfield, password):
    group, aspect, pupils, grades, current, previous = sheet_setup(oakfield)
    with schema_context(oakfield.school.schema_name):
        head = User.objects.get(email=oakfield.demo.head_email)
        calendar.point_lock(user=head, point=current)
        before = dict(Result.objects.filter(aspect=aspect, pupil__in=pupils).values_list("pk", "grade_id"))
    client = school_client(oakfield, oakfield.demo.teacher_email, password)

    shown = client.get(url(group, aspect, current)).content.decode()
    written = rows_written()
    posted = client.post(f"/groups/{group.pk}/marksheet/", {"aspect": aspect.pk, "point": current.pk,
                                                              f"pupil-{pupils[0].pk}": grades[-1].pk})

    assert f"{current.name} is locked</strong> by {head.get_full_name()}" in shown
    assert 'name="pupil-' not in shown and "Save all" not in shown
    assert posted.status_code == 200 and "is locked" in posted.content.decode()
    assert "Nothing was saved." in posted.content.decode()
    assert rows_written(besides=("technical_visit",)) == written
    with schema_context(oakfield.school.schema_name):
        assert dict(Result.objects.filter(aspect=aspect, pupil__in=pupils).values_list("pk", "grade_id")) == before


def test_a_stale_marksheet_is_refused_naming_the_pupil_and_keeps_the_entries(oakfield, password):
    group, aspect, pupils, grades, current, previous = sheet_setup(oakfield)
    client = school_client(oakfield, oakfield.demo.teacher_email, password)
    opened = client.get(url(group, aspect, current)).context["sheet"]
    shown = {r.pupil.pk: r.current for r in opened.rows}
    with schema_context(oakfield.school.schema_name):  # a colleague saves one pupil meanwhile
        Result.objects.update_or_create(pupil=pupils[0], aspect=aspect, recorded_on=current.date,
                                        defaults={"grade": grades[1] if shown[pupils[0].pk] != grades[1].pk else grades[2]})
        theirs = Result.objects.get(pupil=pupils[0], aspect=aspect, recorded_on=current.date).grade_id
    data = {"aspect": aspect.pk, "point": current.pk, "sheet-check": "1",
            **{f"was-{pk}": gid or "" for pk, gid in shown.items()},
            **{f"pupil-{p.pk}": grades[4].pk for p in pupils}}
    written = rows_written()

    response = client.post(f"/groups/{group.pk}/marksheet/", data)

    page = response.content.decode()
    assert response.status_code == 200
    assert f"Someone else saved this sheet after you opened it: {pupils[0].forename} {pupils[0].surname}" in page
    assert "Nothing was saved." in page
    for pupil in pupils:  # the entries are kept (each pupil's own select: a point's id can equal a grade's)
        select = re.search(rf'name="pupil-{pupil.pk}"[^>]*>(.*?)</select>', page, re.S)
        assert select and f'<option value="{grades[4].pk}" selected>' in select.group(1), pupil
    assert f'name="was-{pupils[0].pk}" value="{theirs}"' in page  # a second save overwrites knowingly
    assert rows_written(besides=("technical_visit",)) == written
    again = client.post(f"/groups/{group.pk}/marksheet/", {**data, f"was-{pupils[0].pk}": theirs})
    assert again.status_code == 302
    with schema_context(oakfield.school.schema_name):
        assert Result.objects.get(pupil=pupils[0], aspect=aspect, recorded_on=current.date).grade_id == grades[4].pk


def test_the_marksheet_runs_the_same_queries_for_a_bigger_group(oakfield, password):
    group, aspect, pupils, grades, current, previous = sheet_setup(oakfield)
    client = school_client(oakfield, oakfield.demo.teacher_email, password)
    client.get(url(group, aspect, current))
    with CaptureQueriesContext(connection) as before:
        client.get(url(group, aspect, current))
    with schema_context(oakfield.school.schema_name):
        extra = Pupil.objects.exclude(groups=group).filter(on_roll=True)[:15]
        group.pupils.add(*extra)
        for pupil in extra:
            Result.objects.update_or_create(pupil=pupil, aspect=aspect, recorded_on=previous.date,
                                            defaults={"grade": grades[1]})
    with CaptureQueriesContext(connection) as after:
        response = client.get(url(group, aspect, current))

    assert len(response.context["sheet"].rows) == len(pupils) + 15
    assert len(after) == len(before)


def test_a_point_of_another_school_is_not_found(oakfield, riverside, password):
    group, aspect, *_ = sheet_setup(oakfield)
    with schema_context(oakfield.school.schema_name):
        beyond = AssessmentPoint.objects.order_by("-pk").first().pk + 500
    with schema_context(riverside.school.schema_name):
        AssessmentPoint.objects.create(pk=beyond, name="Riverside only", date=dt.date(2026, 6, 1))
    client = school_client(oakfield, oakfield.demo.teacher_email, password)

    assert client.get(url(group, aspect) + f"&point={beyond}").status_code == 404


# --- The calendar page -------------------------------------------------------------------------------


def test_a_teacher_sees_the_calendar_read_only_and_cannot_change_it(oakfield, password):
    group, aspect, pupils, grades, current, previous = sheet_setup(oakfield)
    client = school_client(oakfield, oakfield.demo.teacher_email, password)

    page = client.get("/settings/assessment/")
    written = rows_written()
    refused = [client.post("/settings/assessment/", data) for data in (
        {"action": "lock", "point": current.pk},
        {"action": "add", "new-name": "Extra", "new-date": current.date.isoformat()},
        {"action": "delete", "point": current.pk, "confirm": "yes"})]

    assert page.status_code == 200 and current.name in page.content.decode()
    assert 'name="action"' not in page.content.decode()
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert rows_written(besides=("technical_visit",)) == written
    with schema_context(oakfield.school.schema_name):
        assert not AssessmentPoint.objects.get(pk=current.pk).locked


def test_locking_refuses_edits_and_an_unlock_asks_first_and_is_change_logged(oakfield, password):
    group, aspect, pupils, grades, current, previous = sheet_setup(oakfield)
    admin = school_client(oakfield, oakfield.demo.head_email, password)

    locked = admin.post("/settings/assessment/", {"action": "lock", "point": current.pk})
    with schema_context(oakfield.school.schema_name):
        head = User.objects.get(email=oakfield.demo.head_email)
        point = AssessmentPoint.objects.get(pk=current.pk)
        assert locked.status_code == 302 and point.locked and point.locked_by_id == head.pk
        teacher = User.objects.get(email=oakfield.demo.teacher_email)
        from django.core.exceptions import ValidationError

        from tenants.assessment.services import marksheet_save
        with pytest.raises(ValidationError, match="is locked"):
            marksheet_save(user=teacher, group=group, aspect=aspect, point=point, grades={pupils[0].pk: grades[0].pk})
    written = rows_written()
    moved = admin.post("/settings/assessment/", {"action": "change", "point": current.pk,
                                                 f"p{current.pk}-name": current.name,
                                                 f"p{current.pk}-date": (current.date - dt.timedelta(days=2)).isoformat()})
    removed = admin.post("/settings/assessment/", {"action": "delete", "point": current.pk, "confirm": "yes"})
    asked = admin.post("/settings/assessment/", {"action": "unlock", "point": current.pk})

    assert "is locked: unlock it to change its date" in moved.content.decode()
    assert "is locked: unlock it before removing it" in removed.content.decode()
    assert f"Unlock {current.name}?" in asked.content.decode() and 'name="confirm" value="yes"' in asked.content.decode()
    assert rows_written(besides=("technical_visit",)) == written
    with schema_context(oakfield.school.schema_name):
        assert AssessmentPoint.objects.get(pk=current.pk).date == current.date
        assert AssessmentPoint.objects.get(pk=current.pk).locked

    unlocked = admin.post("/settings/assessment/", {"action": "unlock", "point": current.pk, "confirm": "yes"})

    assert unlocked.status_code == 302
    with schema_context(oakfield.school.schema_name):
        assert not AssessmentPoint.objects.get(pk=current.pk).locked
    entries = list(ChangeLogEntry.objects.filter(object_type="assessment.assessmentpoint", object_id=str(current.pk),
                                                 object_schema=oakfield.school.schema_name).order_by("pk")
                   .values_list("actor_id", "action", "fields"))
    assert entries[-2:] == [(head.pk, "update", ["locked_at", "locked_by"])] * 2


def test_the_calendar_refuses_a_clashing_name_and_changes_nothing(oakfield, password):
    group, aspect, pupils, grades, current, previous = sheet_setup(oakfield)
    admin = school_client(oakfield, oakfield.demo.head_email, password)
    written = rows_written()

    clash = admin.post("/settings/assessment/", {"action": "add", "new-name": current.name.upper(),
                                                 "new-date": (current.date - dt.timedelta(days=1)).isoformat()})
    same_day = admin.post("/settings/assessment/", {"action": "add", "new-name": "Mock tests",
                                                    "new-date": current.date.isoformat()})
    bad_date = admin.post("/settings/assessment/", {"action": "add", "new-name": "Mock tests", "new-date": "2026-02-30"})
    unknown = admin.post("/settings/assessment/", {"action": "explode", "point": current.pk})

    assert "There is already an assessment point called" in clash.content.decode()
    assert "There is already an assessment point on" in same_day.content.decode()
    assert bad_date.status_code == 200 and "Enter a valid date" in bad_date.content.decode()
    assert unknown.status_code == 400
    assert rows_written(besides=("technical_visit",)) == written


def test_an_admin_adds_renames_and_removes_a_point(oakfield, password):
    group, aspect, pupils, grades, current, previous = sheet_setup(oakfield)
    admin = school_client(oakfield, oakfield.demo.head_email, password)
    day = current.date - dt.timedelta(days=5)

    added = admin.post("/settings/assessment/", {"action": "add", "new-name": "Mock tests", "new-date": day.isoformat()})
    with schema_context(oakfield.school.schema_name):
        point = AssessmentPoint.objects.get(name="Mock tests")
    renamed = admin.post("/settings/assessment/", {"action": "change", "point": point.pk,
                                                   f"p{point.pk}-name": "Mocks", f"p{point.pk}-date": day.isoformat()})
    asked = admin.post("/settings/assessment/", {"action": "delete", "point": point.pk})
    removed = admin.post("/settings/assessment/", {"action": "delete", "point": point.pk, "confirm": "yes"})

    assert (added.status_code, renamed.status_code, asked.status_code, removed.status_code) == (302, 302, 200, 302)
    assert "Remove Mocks?" in asked.content.decode()
    with schema_context(oakfield.school.schema_name):
        assert not AssessmentPoint.objects.filter(pk=point.pk).exists()


def test_grade_set_standards_are_set_and_refused_when_out_of_order(oakfield, riverside, password):
    admin = school_client(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        grade_set = GradeSet.objects.filter(grades__isnull=False).order_by("pk").first()
        grades = list(grade_set.grades.order_by("order"))
        other = Grade.objects.exclude(grade_set=grade_set).first()
    with schema_context(riverside.school.schema_name):
        theirs_before = GradeSet.objects.filter(name=grade_set.name).values_list("expected_from__label", flat=True).first()
    prefix = f"gs{grade_set.pk}"
    written = rows_written()

    backwards = admin.post("/settings/assessment/", {"action": "standards", "grade_set": grade_set.pk,
                                                     f"{prefix}-expected_from": grades[4].pk,
                                                     f"{prefix}-greater_depth_from": grades[2].pk})
    foreign = admin.post("/settings/assessment/", {"action": "standards", "grade_set": grade_set.pk,
                                                   f"{prefix}-expected_from": other.pk if other else 999999})

    assert "Greater depth must start at a grade after the expected standard." in backwards.content.decode()
    assert "Select a valid choice" in foreign.content.decode()
    assert rows_written(besides=("technical_visit",)) == written

    saved = admin.post("/settings/assessment/", {"action": "standards", "grade_set": grade_set.pk,
                                                 f"{prefix}-expected_from": grades[2].pk,
                                                 f"{prefix}-greater_depth_from": grades[4].pk})

    assert saved.status_code == 302
    with schema_context(oakfield.school.schema_name):
        grade_set.refresh_from_db()
        assert (grade_set.expected_from_id, grade_set.greater_depth_from_id) == (grades[2].pk, grades[4].pk)
    with schema_context(riverside.school.schema_name):  # the other school's grade sets are its own
        assert GradeSet.objects.filter(name=grade_set.name).values_list("expected_from__label", flat=True).first() \
            == theirs_before


def test_a_locked_point_of_one_school_leaves_the_other_open(oakfield, riverside, password):
    admin = school_client(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        calendar.calendar_ensure()
        ours = calendar.point_current()
    with schema_context(riverside.school.schema_name):
        calendar.calendar_ensure()
        theirs = calendar.point_current()

    admin.post("/settings/assessment/", {"action": "lock", "point": ours.pk})

    with schema_context(oakfield.school.schema_name):
        assert AssessmentPoint.objects.get(pk=ours.pk).locked
    with schema_context(riverside.school.schema_name):
        assert not AssessmentPoint.objects.get(pk=theirs.pk).locked


def test_a_sheet_opened_on_a_date_is_saved_on_that_date_not_at_its_point(oakfield, password):
    """A date inside a point's window keeps the sheet on that date (its form posts the date back)."""
    group, aspect, pupils, grades, current, previous = sheet_setup(oakfield)
    client = school_client(oakfield, oakfield.demo.teacher_email, password)
    day = previous.date - dt.timedelta(days=1)
    with schema_context(oakfield.school.schema_name):
        Result.objects.filter(aspect=aspect, pupil=pupils[0], recorded_on=day).delete()

    sheet = client.get(f"/groups/{group.pk}/marksheet/?aspect={aspect.pk}&date={day.isoformat()}").context["sheet"]
    shown = {r.pupil.pk: r.current for r in sheet.rows}
    posted = client.post(f"/groups/{group.pk}/marksheet/", {
        "aspect": aspect.pk, "date": day.isoformat(), "sheet-check": "1",
        **{f"was-{pk}": gid or "" for pk, gid in shown.items()}, f"pupil-{pupils[0].pk}": grades[5].pk})

    assert not sheet.by_point and sheet.point.pk == previous.pk and sheet.recorded_on == day
    assert posted.status_code == 302 and f"date={day.isoformat()}" in posted["Location"]
    with schema_context(oakfield.school.schema_name):
        assert Result.objects.get(aspect=aspect, pupil=pupils[0], recorded_on=day).grade_id == grades[5].pk
