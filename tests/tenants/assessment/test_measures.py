"""The measures on a small cohort computed by hand, on the real database (inside Oakfield's schema,
with a subject of its own so that the demo's results do not count).

The cohort (grades G1..G6 worth 1..6 points; expected from G3, greater depth from G5). The earlier
point's window is 1 Sep - 10 Dec 2030, the later one's 11 Dec 2030 - 25 Mar 2031 (105 days on);
targets are due 8 Jul 2031 (210 days after 10 Dec), so at 25 Mar the flight path is half way:

    pupil  year  sex  flags         earlier  later          target  progress at the later point
    p1     9     F    disadvantaged G2       G1 then G3     G6      path 4.0, has 3: below
    p2     9     F                  G3       G5             G6      path 4.5, has 5: on (5 is not above 5.0)
    p3     9     M    SEN           G2       G2 (G6 after)  G6      path 4.0, has 2: below
    p4     9     M    EAL           G4       G4             G4      path 4.0, has 4: on
    p5     9     F                  -        G6             G6      no baseline before: unknown
    p6     9     M    disadvantaged G1       G3             G2      path 1.5, has 3: above
    p7     9     F                  G3       -              -       unknown
    p8     10    M    disadvantaged G2       G2             G6      path 4.0, has 2: below
    p9     10    F                  G5       G5             -       unknown
    p11    10    F                  G1       G1             -       unknown
    p10    10    M    restricted    G6       G6             G6      left out
    p12    9     F    objected      G6       G6             G6      left out

Later point, all pupils: 9 assessed, 6 expected+ (p1 p2 p4 p5 p6 p9) = 67%, 3 greater depth
(p2 p5 p9) = 33%. Earlier point: 9 assessed, 4 expected+ (p2 p4 p7 p9) = 44%, 1 greater depth (p9)
= 11%. Change: +23 and +22 points. Year 9: 5 of 6 = 83% (earlier 3 of 6 = 50%: +33); Year 10 has
3 pupils assessed: counts only. Progress: 3 below, 2 on, 1 above: 50% on or above."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenants.assessment import measures
from tenants.assessment.calendar import Window
from tenants.assessment.models import Aspect, AssessmentPoint, Grade, GradeSet, Result, Subject, Target
from tenants.assessment.progress import Point, progress_status
from tenants.pupils.models import Group, Pupil, SenProvision

pytestmark = pytest.mark.django_db

EARLIER = Window(point=AssessmentPoint(name="Autumn 2030", date=dt.date(2030, 12, 10)),
                 starts_on=dt.date(2030, 9, 1), ends_on=dt.date(2030, 12, 10))
LATER = Window(point=AssessmentPoint(name="Spring 2031", date=dt.date(2031, 3, 25)),
               starts_on=dt.date(2030, 12, 11), ends_on=dt.date(2031, 3, 25))
DUE = dt.date(2031, 7, 8)

# name: (year, gender, flags, earlier grade, later grades (dated from the window's start), target)
COHORT = {
    "p1": ("Year 9", "F", {"pupil_premium": True}, 2, [1, 3], 6),
    "p2": ("Year 9", "F", {}, 3, [5], 6),
    "p3": ("Year 9", "M", {"sen_provision": SenProvision.SUPPORT}, 2, [2], 6),
    "p4": ("Year 9", "M", {"eal": True}, 4, [4], 4),
    "p5": ("Year 9", "F", {}, None, [6], 6),
    "p6": ("Year 9", "M", {"fsm_ever6": True}, 1, [3], 2),
    "p7": ("Year 9", "F", {}, 3, [], None),
    "p8": ("Year 10", "M", {"pupil_premium": True}, 2, [2], 6),
    "p9": ("Year 10", "F", {}, 5, [5], None),
    "p11": ("Year 10", "F", {}, 1, [1], None),
    "p10": ("Year 10", "M", {"processing_restricted": True}, 6, [6], 6),
    "p12": ("Year 9", "F", {"processing_objected": True}, 6, [6], 6),
}


def build_cohort(prefix: str = "Hand") -> dict:
    """The cohort above in the current schema: its subject, grades and pupils by name."""
    grade_set = GradeSet.objects.create(name=f"{prefix} grades")
    grades = {n: Grade.objects.create(grade_set=grade_set, label=f"G{n}", order=n, points=Decimal(n)) for n in range(1, 7)}
    grade_set.expected_from, grade_set.greater_depth_from = grades[3], grades[5]
    grade_set.save()
    subject = Subject.objects.create(name=f"{prefix} Latin")
    aspect = Aspect.objects.create(subject=subject, name="Teacher assessment", grade_set=grade_set, is_headline=True)
    # A second, non-headline aspect whose results never count.
    other = Aspect.objects.create(subject=subject, name="Spelling test", grade_set=grade_set)
    pupils = {}
    for name, (year, gender, flags, earlier, later, target) in COHORT.items():
        pupil = Pupil.objects.create(forename=name, surname=prefix, year_group=year, gender=gender, **flags)
        pupils[name] = pupil
        if earlier:
            Result.objects.create(pupil=pupil, aspect=aspect, grade=grades[earlier], recorded_on=EARLIER.ends_on)
        for i, grade in enumerate(later):
            day = LATER.ends_on if i == len(later) - 1 else LATER.starts_on
            Result.objects.create(pupil=pupil, aspect=aspect, grade=grades[grade], recorded_on=day)
        Result.objects.create(pupil=pupil, aspect=other, grade=grades[6], recorded_on=LATER.ends_on)
        if target:
            Target.objects.create(pupil=pupil, subject=subject, grade=grades[target], due_on=DUE)
    # After the later point's window: counts towards neither.
    Result.objects.create(pupil=pupils["p3"], aspect=aspect, grade=grades[6], recorded_on=LATER.ends_on + dt.timedelta(days=1))
    small = Group.objects.create(kind=Group.Kind.TEACHING, name=f"{prefix} 9 set 2")
    small.pupils.set([pupils["p1"], pupils["p2"], pupils["p3"]])
    large = Group.objects.create(kind=Group.Kind.TEACHING, name=f"{prefix} 9 set 1")
    large.pupils.set([pupils[n] for n in ("p1", "p2", "p3", "p4", "p5", "p6")])
    return {"subject": subject, "aspect": aspect, "grades": grades, "pupils": pupils,
            "cohort": Pupil.objects.filter(surname=prefix), "groups": Group.objects.filter(name__startswith=prefix)}


def rows_of(result: measures.CohortMeasures) -> dict[str, dict[str, measures.MeasureRow]]:
    return {key: {r.label: r for r in rows} for key, _, rows in result.breakdowns}


def test_each_measure_on_a_cohort_computed_by_hand(oakfield):
    with schema_context(oakfield.school.schema_name):
        built = build_cohort()
        result = measures.cohort_measures(pupils=built["cohort"], subject=built["subject"], window=LATER,
                                          comparison=EARLIER, groups=built["groups"])
    rows = rows_of(result)

    overall = rows["all"]["All pupils"]
    assert overall.pupils == 10 and overall.not_assessed == 1  # p10 and p12 left out; p7 has no result
    assert (overall.at_point.assessed, overall.at_point.expected, overall.at_point.greater_depth) == (9, 6, 3)
    assert (overall.at_point.expected_percent, overall.at_point.greater_depth_percent) == (67, 33)
    assert (overall.at_comparison.assessed, overall.at_comparison.expected, overall.at_comparison.greater_depth) == (9, 4, 1)
    assert (overall.at_comparison.expected_percent, overall.at_comparison.greater_depth_percent) == (44, 11)
    assert (overall.expected_change, overall.greater_depth_change) == (23, 22)
    assert (overall.progress.below, overall.progress.on, overall.progress.above) == (3, 2, 1)
    assert overall.progress.on_or_above_percent == 50

    year9, year10 = rows["year"]["Year 9"], rows["year"]["Year 10"]
    assert [r.label for key, _, found in result.breakdowns if key == "year" for r in found] == ["Year 9", "Year 10"]
    assert (year9.pupils, year9.at_point.assessed, year9.at_point.expected, year9.at_point.greater_depth) == (7, 6, 5, 2)
    assert (year9.at_point.expected_percent, year9.at_comparison.expected_percent, year9.expected_change) == (83, 50, 33)
    assert (year9.progress.below, year9.progress.on, year9.progress.above, year9.progress.on_or_above_percent) == (2, 2, 1, 60)

    # A small group: its counts are there, its percentages are not.
    assert (year10.pupils, year10.at_point.assessed, year10.at_point.expected, year10.at_point.greater_depth) == (3, 3, 1, 1)
    assert year10.at_point.suppressed and year10.at_point.expected_percent is None
    assert year10.at_point.greater_depth_percent is None and year10.expected_change is None
    assert year10.progress.suppressed and year10.progress.on_or_above_percent is None
    assert result.any_suppressed

    assert (rows["disadvantaged"]["Disadvantaged"].pupils, rows["disadvantaged"]["Not disadvantaged"].pupils) == (3, 7)
    assert rows["disadvantaged"]["Disadvantaged"].at_point.expected_percent is None
    not_disadvantaged = rows["disadvantaged"]["Not disadvantaged"].at_point
    assert (not_disadvantaged.assessed, not_disadvantaged.expected, not_disadvantaged.expected_percent) == (6, 4, 67)
    assert (rows["sen"]["SEN"].pupils, rows["sen"]["No SEN"].pupils) == (1, 9)
    assert (rows["eal"]["EAL"].pupils, rows["eal"]["EAL"].at_point.expected) == (1, 1)
    female, male = rows["gender"]["Female"], rows["gender"]["Male"]
    assert (female.pupils, female.at_point.assessed, female.at_point.expected, female.at_point.expected_percent) == (6, 5, 4, 80)
    assert (male.pupils, male.at_point.assessed, male.at_point.expected) == (4, 4, 2)
    assert male.at_point.expected_percent is None  # 4 assessed

    groups = rows["group"]
    assert (groups["Hand 9 set 1"].at_point.assessed, groups["Hand 9 set 1"].at_point.expected_percent) == (6, 83)
    assert groups["Hand 9 set 2"].at_point.assessed == 3 and groups["Hand 9 set 2"].at_point.expected_percent is None


def test_progress_in_the_database_agrees_with_the_flight_path_function(oakfield):
    """The SQL multiplies the flight path out; progress_status divides. Same answers."""
    with schema_context(oakfield.school.schema_name):
        built = build_cohort()
        result = measures.cohort_measures(pupils=built["cohort"].filter(pk=built["pupils"]["p2"].pk),
                                          subject=built["subject"], window=LATER, comparison=None)
    p2 = result.overall.progress
    expected = progress_status(baseline=Point(EARLIER.ends_on, Decimal(3)), target=Point(DUE, Decimal(6)),
                               latest=Point(LATER.ends_on, Decimal(5)))
    assert expected == "on" and (p2.below, p2.on, p2.above) == (0, 1, 0)
    assert result.overall.at_comparison is None


def test_a_grade_set_without_standards_shows_counts_and_no_percentage(oakfield):
    with schema_context(oakfield.school.schema_name):
        built = build_cohort()
        GradeSet.objects.filter(pk=built["aspect"].grade_set_id).update(expected_from=None, greater_depth_from=None)
        result = measures.cohort_measures(pupils=built["cohort"], subject=built["subject"], window=LATER,
                                          comparison=EARLIER)
    assert not result.has_standards
    assert result.overall.at_point.assessed == 9 and result.overall.at_point.expected_percent is None


def test_the_transition_matrix_counts_each_pupil_once_in_their_cell(oakfield):
    with schema_context(oakfield.school.schema_name):
        built = build_cohort()
        g = {n: grade.pk for n, grade in built["grades"].items()}
        matrix = measures.transition_matrix(pupils=built["cohort"], subject=built["subject"], year="Year 9",
                                            earlier=EARLIER, later=LATER)
        cell = measures.transition_pupils(pupils=built["cohort"], subject=built["subject"], year="Year 9",
                                          earlier=EARLIER, later=LATER, earlier_grade=g[2], later_grade=g[3])
        new = measures.transition_pupils(pupils=built["cohort"], subject=built["subject"], year="Year 9",
                                         earlier=EARLIER, later=LATER, earlier_grade=None, later_grade=g[6])
        p = {n: pupil.pk for n, pupil in built["pupils"].items()}

    assert matrix.cells == {(g[2], g[3]): 1, (g[3], g[5]): 1, (g[2], g[2]): 1, (g[4], g[4]): 1, (None, g[6]): 1,
                            (g[1], g[3]): 1, (g[3], None): 1}
    assert matrix.total == 7 and matrix.row_total(g[2]) == 2 and matrix.column_total(g[3]) == 2
    assert [label for _, label in matrix.axis] == ["G1", "G2", "G3", "G4", "G5", "G6", "No result"]
    assert [row[0] for row in cell] == [p["p1"]]
    assert [row[0] for row in new] == [p["p5"]]


def test_queries_are_as_many_for_a_larger_cohort(oakfield):
    with schema_context(oakfield.school.schema_name):
        built = build_cohort()

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                measures.cohort_measures(pupils=Pupil.objects.filter(surname__in=["Hand", "More"]), subject=built["subject"],
                                         window=LATER, comparison=EARLIER, groups=Group.objects.all())
                measures.transition_matrix(pupils=Pupil.objects.filter(surname__in=["Hand", "More"]),
                                           subject=built["subject"], year="", earlier=EARLIER, later=LATER)
                measures.attainment_by_subject(pupils=Pupil.objects.all(), window=LATER, previous=EARLIER)
                measures.pupils_without_result(pupils=Pupil.objects.all(), window=LATER, limit=10)
                measures.marks_missing_by_group(groups=Group.objects.all(), window=LATER)
                measures.pupils_below_flight_path(pupils=Pupil.objects.all(), window=LATER)
            return len(queries)

        before = count()
        for n in range(60):
            pupil = Pupil.objects.create(forename=f"m{n}", surname="More", year_group=f"Year {n % 3 + 7}")
            Result.objects.create(pupil=pupil, aspect=built["aspect"], grade=built["grades"][n % 6 + 1],
                                  recorded_on=LATER.ends_on)
            Group.objects.create(kind=Group.Kind.TEACHING, name=f"More {n}").pupils.add(pupil)
        after = count()
    assert before == after
