"""The cohort page, the transition matrix and its cells, and each role's dashboard, on the demo
schools (two of them, for isolation) with the hand-computed cohort of
tests/tenants/assessment/test_measures.py placed on two real assessment points of Oakfield's calendar."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from shared import clock
from tenants.assessment import calendar
from tenants.assessment.models import Aspect, AssessmentPoint, Result
from tenants.pupils.models import Group, Pupil
from tenants.users.models import User
from tenants.xporter.models import XporterConnection
from tests.helpers import school_client
from tests.shared.support.helpers import ask, support_operator
from tests.tenants.assessment.test_measures import EARLIER, LATER, build_cohort

pytestmark = pytest.mark.django_db


def hand_cohort(school) -> dict:
    """The hand cohort in ``school``, its two windows saved as assessment points (the calendar's
    other points are years away from 2030, so the windows are exactly the test's)."""
    with schema_context(school.school.schema_name):
        calendar.calendar_ensure(clock.today())
        built = build_cohort(prefix="Zyxwardine")
        built["earlier"] = AssessmentPoint.objects.create(name=EARLIER.point.name, date=EARLIER.point.date)
        built["later"] = AssessmentPoint.objects.create(name=LATER.point.name, date=LATER.point.date)
        assert calendar.window_of(built["later"]).starts_on == LATER.starts_on
        assert calendar.window_of(built["earlier"]).starts_on == EARLIER.starts_on
    return built


def query(built, **extra) -> str:
    params = {"subject": built["subject"].pk, "point": built["later"].pk, "compare": built["earlier"].pk, **extra}
    return "&".join(f"{k}={v}" for k, v in params.items())


def rows(response, key):
    return {r.label: r for k, _, found in response.context["measures"].breakdowns if k == key for r in found}


def test_the_cohort_page_shows_each_measure_with_its_counts_and_says_what_is_suppressed(oakfield, password):
    built = hand_cohort(oakfield)
    head = school_client(oakfield, oakfield.demo.head_email, password)

    response = head.get(f"/analysis/?{query(built, year='Year 9')}")

    assert response.status_code == 200
    overall = rows(response, "all")["All pupils"]
    assert (overall.pupils, overall.at_point.assessed, overall.at_point.expected_percent) == (7, 6, 83)
    assert overall.expected_change == 33
    female = rows(response, "gender")["Female"]  # p1 p2 p5 assessed, p7 not
    assert female.at_point.assessed == 3 and female.at_point.expected_percent is None
    page = html.unescape(response.content.decode())
    assert "Percentages are not shown for groups of fewer than 5 pupils assessed" in page
    assert 'title="Not shown: fewer than 5 pupils assessed">*</abbr>' in page
    assert "83% <span class=\"muted\">(5)</span>" in page and "+33 pts" in page
    assert "<title id=" in page and "<desc id=" in page  # the chart's text alternative
    assert "Zyxwardine 9 set 1" in page  # teaching groups are a breakdown


def test_the_cohort_page_defaults_to_the_current_point_and_the_one_before(oakfield, password):
    head = school_client(oakfield, oakfield.demo.head_email, password)

    response = head.get("/analysis/")

    with schema_context(oakfield.school.schema_name):
        current = calendar.point_current(clock.today())
        previous = calendar.point_previous(current)
        on_roll = Pupil.objects.filter(on_roll=True, processing_restricted=False, processing_objected=False).count()
    measures = response.context["measures"]
    assert (measures.point, measures.comparison) == (current, previous)
    assert measures.overall.pupils == on_roll and measures.overall.at_point.assessed > 0
    assert [key for key, *_ in measures.breakdowns] == ["all", "year", "group", "disadvantaged", "sen", "eal", "fsm",
                                                         "looked_after", "gender"]


@pytest.mark.parametrize("bad", ["point=abc", "compare=999999", "subject=999999", "year=Year+99"])
def test_a_bad_choice_is_a_400_that_says_so(oakfield, password, bad):
    head = school_client(oakfield, oakfield.demo.head_email, password)

    response = head.get(f"/analysis/?{bad}")

    assert response.status_code == 400 and b"Nothing shown:" in response.content


def test_the_transition_matrix_links_each_cell_to_its_pupils(oakfield, password):
    built = hand_cohort(oakfield)
    head = school_client(oakfield, oakfield.demo.head_email, password)
    g = {n: grade.pk for n, grade in built["grades"].items()}

    response = head.get(f"/analysis/transition/?{query(built, year='Year 9')}")

    assert response.status_code == 200
    matrix = response.context["matrix"]
    assert matrix.total == 7 and matrix.count(g[2], g[3]) == 1 and matrix.count(None, g[6]) == 1
    links = re.findall(r'href="(/analysis/transition/pupils/\?[^"]+)"', response.content.decode())
    assert len(links) == 7  # one per non-empty cell
    cell = next(link for link in links if f"from={g[2]}&amp;to={g[3]}" in link)
    pupils = head.get(html.unescape(cell))
    assert pupils.status_code == 200
    assert [p[0] for p in pupils.context["pupils"]] == [built["pupils"]["p1"].pk]
    assert b"Zyxwardine, p1" in pupils.content and b"G2 at Autumn 2030, G3 at Spring 2031" in pupils.content
    newcomer = head.get(f"/analysis/transition/pupils/?{query(built, year='Year 9')}&from=none&to={g[6]}")
    assert [p[0] for p in newcomer.context["pupils"]] == [built["pupils"]["p5"].pk]


def test_a_teacher_sees_only_their_own_pupils_in_the_matrix_and_its_cells(oakfield, password):
    built = hand_cohort(oakfield)
    teacher = school_client(oakfield, oakfield.demo.teacher_email, password)
    g = {n: grade.pk for n, grade in built["grades"].items()}

    matrix = teacher.get(f"/analysis/transition/?{query(built, year='Year 9')}")
    cell = teacher.get(f"/analysis/transition/pupils/?{query(built, year='Year 9')}&from={g[2]}&to={g[3]}")
    cohort = teacher.get(f"/analysis/?{query(built)}")

    assert matrix.status_code == 200 and matrix.context["matrix"].total == 0
    assert cell.context["pupils"] == [] and b"Zyxwardine, p" not in cell.content
    assert cohort.context["measures"].overall.at_point.assessed == 0 and b"Zyxwardine 9 set" not in cohort.content


def test_another_schools_analysis_never_shows_these_pupils(oakfield, riverside, password):
    built = hand_cohort(oakfield)
    head = school_client(riverside, riverside.demo.head_email, password)
    with schema_context(riverside.school.schema_name):
        subject = Aspect.objects.filter(is_headline=True).first().subject_id

    pages = [head.get("/"), head.get(f"/analysis/?subject={subject}"), head.get("/analysis/transition/"),
             head.get("/analysis/no-result/")]

    assert [p.status_code for p in pages] == [200, 200, 200, 200]
    for page in pages:
        assert b"Zyxwardine" not in page.content
    assert head.get(f"/analysis/?{query(built)}").status_code == 400  # Oakfield's subject and points are not Riverside's


def test_the_heads_dashboard_shows_what_needs_doing_and_no_user_list(oakfield, password):
    ask(support_operator(), oakfield, ticket_reference="T-4242")
    with schema_context(oakfield.school.schema_name):
        others = list(User.objects.exclude(email=oakfield.demo.head_email).values_list("email", flat=True))
        XporterConnection.objects.update(last_failure_at=clock.now() + dt.timedelta(seconds=1),
                                         last_failure_reason="Xporter said: token expired")
        window = calendar.window_of(calendar.point_current(clock.today()))
        headline = Aspect.objects.filter(is_headline=True)
        in_window = Result.objects.filter(aspect__in=headline, recorded_on__range=(window.starts_on, window.ends_on))
        analysed = Pupil.objects.filter(on_roll=True, processing_restricted=False, processing_objected=False)
        # Two pupils who had results have none yet at the current point.
        two = list(analysed.filter(pk__in=in_window.values("pupil_id")).values_list("pk", flat=True)[:2])
        in_window.filter(pupil_id__in=two).delete()
        expected_missing = analysed.exclude(pk__in=in_window.values("pupil_id")).count()
    head = school_client(oakfield, oakfield.demo.head_email, password)

    response = head.get("/")

    board = response.context["board"]
    page = response.content.decode()
    assert expected_missing >= 2 and board.without_result == expected_missing
    assert f"<strong>{expected_missing}</strong> pupils with no result yet" in page
    assert "/analysis/no-result/?point=" in page
    assert [a.subject for a in board.attainment] == ["Maths", "Reading", "Science", "Writing"]
    assert all(a.at_point.assessed > 0 and a.at_point.expected_percent is not None for a in board.attainment)
    assert "T-4242" in page and "/support/" in page
    assert "The last Xporter import failed" in page and "token expired" in page
    assert "users" not in response.context
    for email in others:
        assert email not in page
    listed = head.get(re.search(r'href="(/analysis/no-result/\?point=\d+)"', page).group(1))
    assert listed.context["count"] == expected_missing and len(listed.context["pupils"]) == expected_missing


def test_a_teachers_dashboard_shows_their_groups_their_missing_marks_and_their_pupils_below(oakfield, password):
    with schema_context(oakfield.school.schema_name):
        teacher = User.objects.get(email=oakfield.demo.teacher_email)
        mine = list(Group.objects.filter(staff=teacher, kind=Group.Kind.TEACHING).order_by("name"))
        others = list(Group.objects.filter(kind=Group.Kind.TEACHING).exclude(staff=teacher).values_list("name", flat=True))
        current = calendar.point_current(clock.today())
        window = calendar.window_of(current)
        headline = list(Aspect.objects.filter(is_headline=True))
        group = mine[0]
        members = list(group.pupils.filter(on_roll=True))
        # One mark of the group's first pupil goes missing.
        Result.objects.filter(pupil=members[0], aspect=headline[0],
                              recorded_on__range=(window.starts_on, window.ends_on)).delete()
        present = {(r.pupil_id, r.aspect_id) for r in Result.objects.filter(
            pupil__in=members, aspect__in=headline, recorded_on__range=(window.starts_on, window.ends_on))}
        my_pupils = set(Pupil.objects.filter(groups__in=mine).values_list("pk", flat=True))
        user_emails = list(User.objects.exclude(pk=teacher.pk).values_list("email", flat=True))
    client = school_client(oakfield, oakfield.demo.teacher_email, password)

    response = client.get("/")

    board = response.context["board"]
    page = response.content.decode()
    assert [g.group_id for g in board.groups] == [g.pk for g in mine]
    first = board.groups[0]
    assert (first.pupils, first.expected_marks) == (len(members), len(members) * len(headline))
    assert first.missing == len(members) * len(headline) - len(present) >= 1
    assert f'href="/groups/{group.pk}/marksheet/?point={current.pk}"' in page
    for name in others:
        assert f">{name}<" not in page
    assert {row[0] for row in board.below} <= my_pupils
    for email in user_emails:
        assert email not in page
    assert "users" not in response.context


@pytest.mark.parametrize("path,who", [("/", "head"), ("/", "teacher"), ("/analysis/", "head"),
                                      ("/analysis/transition/", "head"), ("/analysis/no-result/", "head")])
def test_the_pages_query_counts_do_not_grow_with_the_school(oakfield, password, path, who):
    email = oakfield.demo.head_email if who == "head" else oakfield.demo.teacher_email
    client = school_client(oakfield, email, password)
    client.get(path)  # the calendar is made on the first visit
    with CaptureQueriesContext(connection) as before:
        client.get(path)
    with schema_context(oakfield.school.schema_name):
        window = calendar.window_of(calendar.point_current(clock.today()))
        aspects = list(Aspect.objects.filter(is_headline=True).select_related("grade_set"))
        teacher = User.objects.get(email=oakfield.demo.teacher_email)
        group = Group.objects.filter(staff=teacher).first()
        for n in range(40):
            pupil = Pupil.objects.create(forename=f"Extra{n}", surname="Pupil", year_group="Year 3")
            group.pupils.add(pupil)
            for aspect in aspects:
                grade = aspect.grade_set.grades.all()[n % 3]
                Result.objects.create(pupil=pupil, aspect=aspect, grade=grade, recorded_on=window.starts_on)
    with CaptureQueriesContext(connection) as after:
        client.get(path)

    assert len(before) > 3
    assert len(after) == len(before)
