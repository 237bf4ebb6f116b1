"""The assessment calendar: each point's window of dates, the current point, the default calendar
and its carrying forward, locking (refusals change nothing; lock and unlock are change-logged), the
grade set's standards, and an Xporter import that leaves a locked point's results alone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from shared import clock
from shared.audit.models import ChangeLogEntry
from tenants.assessment import calendar
from tenants.assessment.models import Aspect, AssessmentPoint, Grade, GradeSet, Result
from tenants.assessment.services import marksheet_save
from tenants.assessment.standards import BELOW, EXPECTED, GREATER_DEPTH, standard_of, standards_guess, standards_set
from tenants.pupils.models import Group
from tenants.users.models import User

pytestmark = pytest.mark.django_db
D = dt.date
TODAY = D(2026, 12, 1)


@pytest.fixture
def pinned(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc))


@pytest.fixture
def school(oakfield, pinned):
    with schema_context(oakfield.school.schema_name):
        AssessmentPoint.objects.all().delete()
        yield oakfield


def head(school) -> User:
    return User.objects.get(email=school.demo.head_email)


def names(points) -> list[str]:
    return [p.name for p in points]


def test_a_school_without_a_calendar_gets_three_terms_for_last_this_and_next_year(school):
    calendar.calendar_ensure(TODAY)
    assert names(calendar.points_all()) == ["Autumn 2025", "Spring 2026", "Summer 2026", "Autumn 2026", "Spring 2027",
                                            "Summer 2027", "Autumn 2027", "Spring 2028", "Summer 2028"]
    calendar.calendar_ensure(TODAY)  # idempotent
    assert AssessmentPoint.objects.count() == 9


def test_a_new_school_year_carries_the_previous_years_dates_a_year_on(school):
    AssessmentPoint.objects.create(name="Autumn data drop 2025", date=D(2025, 11, 28))
    AssessmentPoint.objects.create(name="Summer", date=D(2026, 6, 30))
    calendar.calendar_ensure(TODAY)
    this_year = [(p.name, p.date) for p in calendar.points_all() if calendar.school_year(p.date) == 2026]
    assert this_year == [("Autumn data drop 2026", D(2026, 11, 28)), ("Summer 2027", D(2027, 6, 30))]


@pytest.mark.parametrize("day, expected", [
    (D(2025, 8, 31), None),               # before the school year's first window opens
    (D(2025, 9, 1), "Autumn 2025"),       # the first window opens on 1 September
    (D(2025, 12, 10), "Autumn 2025"),     # a point's own day counts towards it
    (D(2025, 12, 11), "Spring 2026"),     # the next day belongs to the next point
    (D(2026, 7, 10), "Summer 2026"),
    (D(2026, 7, 11), None),               # after the year's last point: no point
    (D(2026, 9, 1), "Autumn 2026"),       # a new school year starts a new first window
])
def test_a_result_counts_towards_the_point_whose_window_holds_its_date(school, day, expected):
    calendar.calendar_ensure(TODAY)
    point = calendar.point_for(day)
    assert (point.name if point else None) == expected


def test_the_current_point_is_the_first_dated_today_or_later(school):
    calendar.calendar_ensure(TODAY)
    assert calendar.point_current(D(2026, 12, 1)).name == "Autumn 2026"
    assert calendar.point_current(D(2026, 12, 10)).name == "Autumn 2026"
    assert calendar.point_current(D(2026, 12, 11)).name == "Spring 2027"
    assert calendar.point_previous(calendar.point_current(TODAY)).name == "Summer 2026"
    assert calendar.point_current(D(2030, 1, 1)).name == "Summer 2028"  # past the calendar: its last point


def _sheet(school):
    group = Group.objects.filter(kind=Group.Kind.TEACHING).first()
    aspect = Aspect.objects.filter(is_headline=True).select_related("grade_set").first()
    pupil = group.pupils.filter(on_roll=True).first()
    grades = list(aspect.grade_set.grades.all())
    return group, aspect, pupil, grades


def test_a_locked_point_refuses_marksheet_changes_and_the_refusal_changes_nothing(school):
    calendar.calendar_ensure(TODAY)
    group, aspect, pupil, grades = _sheet(school)
    autumn = AssessmentPoint.objects.get(name="Autumn 2026")
    marksheet_save(user=head(school), group=group, aspect=aspect, point=autumn, grades={pupil.pk: grades[0].pk})
    calendar.point_lock(user=head(school), point=autumn)
    before = (list(Result.objects.values_list("pk", "grade_id", "recorded_on")), ChangeLogEntry.objects.count())
    with pytest.raises(ValidationError, match="Autumn 2026 is locked"):
        marksheet_save(user=head(school), group=group, aspect=aspect, point=autumn, grades={pupil.pk: grades[1].pk})
    with pytest.raises(ValidationError, match="Autumn 2026 is locked"):  # any date in its window, by date too
        marksheet_save(user=head(school), group=group, aspect=aspect, recorded_on=D(2026, 11, 2),
                       grades={pupil.pk: grades[1].pk})
    with pytest.raises(ValidationError, match="locked"):
        calendar.point_change(user=head(school), point=autumn, name="Autumn 2026", date=D(2026, 12, 3))
    with pytest.raises(ValidationError, match="locked"):
        calendar.point_delete(user=head(school), point=autumn)
    with pytest.raises(ValidationError, match="locked"):  # a new point inside its window would split it
        calendar.point_add(user=head(school), name="Half term", date=D(2026, 10, 20))
    # another school year's point is not held by it
    calendar.point_change(user=head(school), point=AssessmentPoint.objects.get(name="Summer 2026"), name="Summer 2026",
                          date=D(2026, 7, 3))
    after = (list(Result.objects.values_list("pk", "grade_id", "recorded_on")), ChangeLogEntry.objects.count())
    assert before[0] == after[0]


def test_locking_the_next_point_fixes_the_date_of_the_one_before_it(school):
    calendar.calendar_ensure(TODAY)
    calendar.point_lock(user=head(school), point=AssessmentPoint.objects.get(name="Spring 2027"))
    autumn = AssessmentPoint.objects.get(name="Autumn 2026")
    with pytest.raises(ValidationError, match="would change which results count towards Spring 2027"):
        calendar.point_change(user=head(school), point=autumn, name="Autumn 2026", date=D(2026, 12, 3))
    with pytest.raises(ValidationError, match="would change which results count towards Spring 2027"):
        calendar.point_delete(user=head(school), point=autumn)
    assert AssessmentPoint.objects.get(pk=autumn.pk).date == D(2026, 12, 10)
    # renaming moves no window
    calendar.point_change(user=head(school), point=autumn, name="Autumn data drop", date=D(2026, 12, 10))
    assert AssessmentPoint.objects.get(pk=autumn.pk).name == "Autumn data drop"


def test_lock_and_unlock_are_change_logged_and_unlocking_opens_the_point_again(school):
    calendar.calendar_ensure(TODAY)
    group, aspect, pupil, grades = _sheet(school)
    autumn = AssessmentPoint.objects.get(name="Autumn 2026")
    calendar.point_lock(user=head(school), point=autumn)
    assert AssessmentPoint.objects.get(pk=autumn.pk).locked_by == head(school)
    with pytest.raises(ValidationError, match="already locked"):
        calendar.point_lock(user=head(school), point=autumn)
    calendar.point_unlock(user=head(school), point=autumn)
    entries = list(ChangeLogEntry.objects.filter(object_type="assessment.assessmentpoint", object_id=str(autumn.pk))
                   .values_list("action", "fields", "actor_id"))
    assert entries == [("update", ["locked_at", "locked_by"], head(school).pk)] * 2
    assert marksheet_save(user=head(school), group=group, aspect=aspect, point=autumn,
                          grades={pupil.pk: grades[2].pk}) == 1
    assert Result.objects.get(pupil=pupil, aspect=aspect, recorded_on=autumn.date).grade == grades[2]


@pytest.mark.parametrize("name, day, message", [
    ("", D(2027, 1, 15), "Give the assessment point a name"),
    ("Autumn 2026", D(2027, 1, 15), "already an assessment point called"),
    ("Mocks", D(2026, 12, 10), "already an assessment point on 10 December 2026"),
    ("Mocks", D(9999, 12, 31), "Enter a date between"),
    ("x" * 61, D(2027, 1, 15), "60 characters"),
])
def test_adding_a_point_refuses_bad_names_and_dates_and_adds_nothing(school, name, day, message):
    calendar.calendar_ensure(TODAY)
    count = AssessmentPoint.objects.count()
    with pytest.raises(ValidationError, match=message):
        calendar.point_add(user=head(school), name=name, date=day)
    assert AssessmentPoint.objects.count() == count


def test_the_demo_grade_set_counts_exs_as_expected_and_gds_as_greater_depth(school):
    grade_set = GradeSet.objects.get(aspects__is_headline=True, aspects__subject__name="Maths")
    by_label = {g.label: standard_of(g, grade_set) for g in grade_set.grades.all()}
    assert by_label == {"WTS-": BELOW, "WTS": BELOW, "WTS+": BELOW, "EXS-": EXPECTED, "EXS": EXPECTED, "EXS+": EXPECTED,
                        "GDS-": GREATER_DEPTH, "GDS": GREATER_DEPTH}


def test_a_school_sets_its_own_standards_and_bad_choices_are_refused(school, riverside):
    grade_set = GradeSet.objects.create(name="Scores")
    low, mid, high = (Grade.objects.create(grade_set=grade_set, label=label, order=i, points=i)
                      for i, label in enumerate(["85-99", "100-114", "115+"]))
    assert standards_guess(grade_set).expected_from is None  # nothing in the labels says
    other = GradeSet.objects.exclude(pk=grade_set.pk).first().grades.first()
    for kwargs, message in [({"expected_from": other, "greater_depth_from": None}, "is not a grade of Scores"),
                            ({"expected_from": high, "greater_depth_from": mid}, "must start at a grade after"),
                            ({"expected_from": None, "greater_depth_from": high}, "Choose the first expected grade")]:
        with pytest.raises(ValidationError, match=message):
            standards_set(user=head(school), grade_set=grade_set, **kwargs)
        assert GradeSet.objects.get(pk=grade_set.pk).expected_from is None
    standards_set(user=head(school), grade_set=grade_set, expected_from=mid, greater_depth_from=high)
    grade_set.refresh_from_db()
    assert [standard_of(g, grade_set) for g in (low, mid, high)] == [BELOW, EXPECTED, GREATER_DEPTH]


def test_an_xporter_import_leaves_a_locked_points_results_as_they_are(oakfield):
    """On the demo school as seeded (today's calendar and the fake Xporter that filled it)."""
    from ops.demo import demo_xporter
    from ops.xporter_fake import FakeXporter, serve_in_thread
    from tenants.xporter.models import XporterConnection
    from tenants.xporter.services import xporter_sync

    with schema_context(oakfield.school.schema_name):
        fake = demo_xporter(oakfield.demo)
        windows = calendar.windows()
        locked = next(w for w in reversed(windows) if w.point.date < clock.today())
        in_window = Result.objects.exclude(xporter_id=None).filter(recorded_on__range=(locked.starts_on, locked.ends_on))
        held = in_window.select_related("grade").first()
        outside = Result.objects.exclude(xporter_id=None).filter(recorded_on__lt=locked.starts_on) \
            .select_related("grade").first()
        assert held is not None and outside is not None
        calendar.point_lock(user=head(oakfield), point=locked.point)
        for result in (held, outside):
            fake._bump()
            fake._put("AssessmentResults", dict(fake.tables["AssessmentResults"][result.xporter_id][1],
                                                Result="WTS-" if result.grade.label != "WTS-" else "GDS"))
        base_url, server = serve_in_thread(FakeXporter([fake]))
        try:
            XporterConnection.objects.update(base_url=base_url, enabled=True, cursors={})  # a full sync
            run = xporter_sync()
        finally:
            server.shutdown()
        assert Result.objects.get(pk=held.pk).grade_id == held.grade_id
        assert Result.objects.get(pk=outside.pk).grade_id != outside.grade_id
        assert run.counts.get("AsmResults.in a locked assessment point, left as they are") == 1
        from tenants.xporter.history import import_summary

        assert "1 change to a locked assessment point's results not imported" in import_summary(run.counts)
