"""Reads on assessment: a pupil's progress, a marksheet, a cohort analysis. Each runs a fixed
number of queries, however many pupils the school has."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet, prefetch_related_objects

from tenants.assessment import wording
from tenants.assessment.calendar import Window, point_for, windows
from tenants.assessment.models import Aspect, AssessmentPoint, Grade, Result, Subject, Target
from tenants.assessment.progress import ABOVE, LABELS, ON, UNKNOWN, Point, progress_status
from tenants.pupils.models import Group, Pupil


@dataclass
class SubjectProgress:
    subject: Subject
    aspect: Aspect | None
    results: list[Result] = field(default_factory=list)
    target: Target | None = None
    status: str = UNKNOWN
    windows: list[Window] = field(default_factory=list)  # the school's calendar, shared by the subjects
    forename: str = ""  # the pupil's, for the plain-language summary

    @property
    def status_label(self) -> str:
        return LABELS[self.status]

    @property
    def latest(self) -> Result | None:
        return self.results[-1] if self.results else None

    def point_of(self, result: Result) -> AssessmentPoint | None:
        """The assessment point whose window holds the result's date, if any."""
        return point_for(result.recorded_on, self.windows)

    @property
    def latest_point(self) -> str | None:
        point = self.point_of(self.latest) if self.latest else None
        return point.name if point else None

    @property
    def latest_standard(self) -> str:
        """What the latest grade means ("working at the expected standard"), when the grade set says."""
        if self.latest is None or self.aspect is None:
            return ""
        return wording.standard_words(self.latest.grade, self.aspect.grade_set)

    @property
    def status_words(self) -> str:
        return wording.status_words(self.status, self.results, self.target)

    @property
    def plain_summary(self) -> str:
        return wording.plain_summary(forename=self.forename, subject=self.subject.name, status=self.status,
                                     results=self.results, target=self.target,
                                     grade_set=self.aspect.grade_set if self.aspect else None,
                                     latest_point=self.latest_point)


def headline_aspects() -> dict[int, Aspect]:
    """Each subject's headline aspect, by subject id."""
    return {a.subject_id: a for a in Aspect.objects.filter(is_headline=True).select_related(
        "subject", "grade_set", "grade_set__expected_from", "grade_set__greater_depth_from")}


def _status(results: list[Result], target: Target | None) -> str:
    if not results or target is None:
        return UNKNOWN
    first, last = results[0], results[-1]
    return progress_status(baseline=Point(first.recorded_on, first.grade.points),
                           target=Point(target.due_on, target.grade.points),
                           latest=Point(last.recorded_on, last.grade.points))


def pupil_progress(pupil: Pupil) -> list[SubjectProgress]:
    """Per subject: the headline aspect's results over time, the target and the progress status,
    with the school's calendar and each grade set's grades (for the chart)."""
    aspects = headline_aspects()
    prefetch_related_objects(list(aspects.values()), "grade_set__grades")
    calendar = windows()
    results_by_aspect: dict[int, list[Result]] = defaultdict(list)
    for result in Result.objects.filter(pupil=pupil, aspect_id__in=[a.pk for a in aspects.values()]).select_related("grade"):
        results_by_aspect[result.aspect_id].append(result)
    targets = {t.subject_id: t for t in Target.objects.filter(pupil=pupil).select_related("grade")}
    progress = []
    for subject in Subject.objects.all():
        aspect = aspects.get(subject.pk)
        results = results_by_aspect.get(aspect.pk, []) if aspect else []
        target = targets.get(subject.pk)
        progress.append(SubjectProgress(subject=subject, aspect=aspect, results=results, target=target,
                                        status=_status(results, target), windows=calendar,
                                        forename=pupil.forename))
    return progress


@dataclass(frozen=True)
class Marksheet:
    group: Group
    aspect: Aspect
    recorded_on: dt.date
    pupils: list[Pupil]
    grades: list[Grade]
    existing: dict[int, int]  # pupil id -> grade id on that date


def marksheet(*, group: Group, aspect: Aspect, recorded_on: dt.date) -> Marksheet:
    pupils = list(group.pupils.filter(on_roll=True).only("id", "forename", "surname"))
    existing = dict(Result.objects.filter(aspect=aspect, recorded_on=recorded_on, pupil__in=pupils)
                    .values_list("pupil_id", "grade_id"))
    return Marksheet(group=group, aspect=aspect, recorded_on=recorded_on, pupils=pupils,
                     grades=list(aspect.grade_set.grades.all()), existing=existing)


@dataclass
class CohortRow:
    label: str
    pupils: int = 0
    assessed: int = 0
    points_total: Decimal = Decimal(0)
    on_or_above: int = 0
    with_status: int = 0

    @property
    def average_points(self) -> Decimal | None:
        return (self.points_total / self.assessed).quantize(Decimal("0.1")) if self.assessed else None

    @property
    def on_track_percent(self) -> int | None:
        return round(100 * self.on_or_above / self.with_status) if self.with_status else None


COMPARISONS = {
    "Disadvantaged": lambda p: "Disadvantaged" if p.disadvantaged else "Not disadvantaged",
    "SEN": lambda p: "SEN" if p.has_sen else "No SEN",
    "EAL": lambda p: "EAL" if p.eal else "Not EAL",
    "FSM": lambda p: "FSM" if p.fsm else "Not FSM",
    "Looked after": lambda p: "Looked after" if p.looked_after else "Not looked after",
    "Gender": lambda p: p.get_gender_display(),
    "Year": lambda p: p.year_group or "No year",
}


def cohort_analysis(*, pupils: QuerySet[Pupil], subject: Subject) -> dict[str, list[CohortRow]]:
    """Attainment (average points of each pupil's latest headline result) and progress (share on or
    above their flight path) in a subject, compared across each characteristic in COMPARISONS.
    Four queries whatever the cohort's size; results are read as plain tuples. Pupils whose
    processing is restricted or objected to are left out."""
    pupils = pupils.filter(processing_restricted=False, processing_objected=False)
    aspect = Aspect.objects.filter(subject=subject, is_headline=True).first()
    pupil_list = list(pupils.only("id", "year_group", "gender", "sen_provision", "pupil_premium", "fsm_ever6", "eal",
                                   "fsm", "looked_after"))
    first_last: dict[int, list[Point]] = {}
    if aspect is not None:
        rows = (Result.objects.filter(aspect=aspect, pupil_id__in=pupils.values("id"))
                .order_by("pupil_id", "recorded_on").values_list("pupil_id", "recorded_on", "grade__points"))
        for pupil_id, day, points in rows:  # (.iterator() is 25x slower here: a server-side cursor per chunk)
            point = Point(day, points)
            if pupil_id in first_last:
                first_last[pupil_id][1] = point
            else:
                first_last[pupil_id] = [point, point]
    targets = {pupil_id: Point(due_on, points) for pupil_id, due_on, points in
               Target.objects.filter(subject=subject, pupil_id__in=pupils.values("id"))
               .values_list("pupil_id", "due_on", "grade__points")}
    table: dict[str, dict[str, CohortRow]] = {name: {} for name in COMPARISONS}
    for pupil in pupil_list:
        series = first_last.get(pupil.pk)
        status = UNKNOWN if series is None else progress_status(baseline=series[0], target=targets.get(pupil.pk),
                                                                 latest=series[1])
        for name, key in COMPARISONS.items():
            label = key(pupil)
            row = table[name].setdefault(label, CohortRow(label=label))
            row.pupils += 1
            if series:
                row.assessed += 1
                row.points_total += series[1].points
            if status != UNKNOWN:
                row.with_status += 1
                row.on_or_above += status in (ON, ABOVE)
    return {name: sorted(rows.values(), key=lambda r: r.label) for name, rows in table.items()}
