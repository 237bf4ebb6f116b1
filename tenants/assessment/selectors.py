"""Reads on assessment: a pupil's progress, a marksheet, a cohort analysis. Each runs a fixed
number of queries, however many pupils the school has."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.db.models import QuerySet, prefetch_related_objects

from tenants.assessment import wording
from tenants.assessment.calendar import Window, point_for, point_previous, window_of, windows
from tenants.assessment.models import Aspect, AssessmentPoint, Grade, Result, Subject, Target
from tenants.assessment.progress import ABOVE, BELOW, LABELS, ON, UNKNOWN, Point, progress_status
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
class MarksheetRow:
    """One pupil's line: the grade entered for the sheet (``current``, a grade id, and its date),
    their latest grade at the previous assessment point and their target in the subject."""

    pupil: Pupil
    current: int | None = None
    current_on: dt.date | None = None
    previous: Grade | None = None
    target: Grade | None = None


@dataclass(frozen=True)
class Marksheet:
    group: Group
    aspect: Aspect
    recorded_on: dt.date
    pupils: list[Pupil]
    grades: list[Grade]
    existing: dict[int, int]  # pupil id -> grade id of the sheet (on its date, or latest in its point)
    point: AssessmentPoint | None = None
    window: Window | None = None
    previous_point: AssessmentPoint | None = None
    rows: list[MarksheetRow] = field(default_factory=list)
    by_point: bool = False  # entered for ``point`` (else on the date ``recorded_on``, inside ``point`` if any)

    @property
    def locked(self) -> bool:
        return bool(self.point and self.point.locked and self.window and self.window.holds(self.recorded_on))


def marksheet_current(*, aspect: Aspect, pupil_ids, window: Window | None = None,
                      recorded_on: dt.date | None = None) -> dict[int, tuple[int, dt.date]]:
    """Each pupil's grade id on the sheet (and its date): for a point, the latest result in its
    window; for a date, the result on it. One query."""
    results = Result.objects.filter(aspect=aspect, pupil_id__in=pupil_ids)
    if window is not None:
        results = results.filter(recorded_on__range=(window.starts_on, window.ends_on))
    else:
        results = results.filter(recorded_on=recorded_on)
    current: dict[int, tuple[int, dt.date]] = {}
    for pupil_id, grade_id, day in results.order_by("recorded_on").values_list("pupil_id", "grade_id", "recorded_on"):
        current[pupil_id] = (grade_id, day)  # the later one wins
    return current


def marksheet(*, group: Group, aspect: Aspect, point: AssessmentPoint | None = None,
              recorded_on: dt.date | None = None) -> Marksheet:
    """A group's sheet for one aspect at an assessment ``point`` (results dated in its window; a
    new entry is dated the point's day) or on a date (``recorded_on``, within whichever point holds
    it). Beside each pupil: their latest grade in the previous point's window and their target.
    A fixed number of queries (six) whatever the group's size."""
    all_windows = windows()
    by_point = point is not None
    if by_point:
        window = window_of(point, all_windows)
        recorded_on = point.date
    else:
        point = point_for(recorded_on, all_windows)
        window = window_of(point, all_windows) if point else None
    previous_point = point_previous(point, all_windows) if point else None
    previous_window = window_of(previous_point, all_windows) if previous_point else None
    pupils = list(group.pupils.filter(on_roll=True).only("id", "forename", "surname"))
    ids = [p.pk for p in pupils]
    grades = list(aspect.grade_set.grades.all())
    by_id = {g.pk: g for g in grades}
    current = marksheet_current(aspect=aspect, pupil_ids=ids, window=window if by_point else None,
                                recorded_on=recorded_on)
    previous: dict[int, int] = {}
    if previous_window is not None:
        for pupil_id, grade_id in (Result.objects.filter(aspect=aspect, pupil_id__in=ids,
                                                          recorded_on__range=(previous_window.starts_on,
                                                                              previous_window.ends_on))
                                   .order_by("recorded_on").values_list("pupil_id", "grade_id")):
            previous[pupil_id] = grade_id
    targets = {t.pupil_id: t.grade for t in Target.objects.filter(subject_id=aspect.subject_id, pupil_id__in=ids)
               .select_related("grade")}
    rows = [MarksheetRow(pupil=p, current=current[p.pk][0] if p.pk in current else None,
                         current_on=current[p.pk][1] if p.pk in current else None,
                         previous=by_id.get(previous.get(p.pk)), target=targets.get(p.pk)) for p in pupils]
    return Marksheet(group=group, aspect=aspect, recorded_on=recorded_on, pupils=pupils, grades=grades,
                     existing={pid: value[0] for pid, value in current.items()}, point=point, window=window,
                     previous_point=previous_point, rows=rows, by_point=by_point)


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


# --- Progress on the pupil list --------------------------------------------------------------------

PROGRESS_RANK = {1: BELOW, 2: ON, 3: ABOVE}

# One pupil's status in one subject, computed in PostgreSQL as ``progress.progress_status`` does in
# Python: baseline = first headline result, latest = last one, target; the flight path's points at the
# latest result's date; below / on / above within TOLERANCE. 1, 2, 3 (NULL: not enough data).
# Within the school's schema only (the tables are the school's own; no schema is named).
_STATUS_SQL = """(
  SELECT CASE WHEN x.latest < x.expected - %s THEN 1 WHEN x.latest > x.expected + %s THEN 3 ELSE 2 END
  FROM (
    SELECT l.points AS latest,
           CASE WHEN t.due_on <= f.recorded_on OR l.recorded_on >= t.due_on THEN t.points
                ELSE f.points + (t.points - f.points) * (l.recorded_on - f.recorded_on)::numeric
                                                      / (t.due_on - f.recorded_on) END AS expected
    FROM (SELECT r.recorded_on, g.points FROM assessment_result r JOIN assessment_grade g ON g.id = r.grade_id
          WHERE r.pupil_id = "pupils_pupil"."id" AND r.aspect_id = %s ORDER BY r.recorded_on LIMIT 1) f,
         (SELECT r.recorded_on, g.points FROM assessment_result r JOIN assessment_grade g ON g.id = r.grade_id
          WHERE r.pupil_id = "pupils_pupil"."id" AND r.aspect_id = %s ORDER BY r.recorded_on DESC LIMIT 1) l,
         (SELECT t.due_on, g.points FROM assessment_target t JOIN assessment_grade g ON g.id = t.grade_id
          WHERE t.pupil_id = "pupils_pupil"."id" AND t.subject_id = %s) t
    WHERE l.recorded_on > f.recorded_on
  ) x
)"""


def _status_rank(aspect: Aspect):
    from django.db.models import Case, IntegerField, When
    from django.db.models.expressions import RawSQL

    from tenants.assessment.progress import TOLERANCE

    raw = RawSQL(_STATUS_SQL, [TOLERANCE, TOLERANCE, aspect.pk, aspect.pk, aspect.subject_id],
                 output_field=IntegerField())
    # Pupils whose processing is restricted or objected to are not analysed.
    return Case(When(processing_restricted=False, processing_objected=False, then=raw), default=None,
                output_field=IntegerField())


def progress_attach(pupils: list[Pupil], *, subject: Subject | None = None,
                    aspects: dict[int, Aspect] | None = None) -> list[Pupil]:
    """Set ``progress_rank`` (and, overall, ``progress_<subject id>``) on each of ``pupils`` as
    ``pupils_with_progress`` annotates them, computed in Python from two queries: for a page of
    pupils sorted by name or year, cheaper than the database's per-pupil subqueries. ``aspects``:
    ``headline_aspects()`` when already read."""
    aspects = headline_aspects() if aspects is None else aspects
    if subject is not None:
        aspects = {k: a for k, a in aspects.items() if k == subject.pk}
    ids = [p.pk for p in pupils]
    series: dict[tuple[int, int], list[Point]] = {}
    for pupil_id, aspect_id, day, points in (Result.objects.filter(pupil_id__in=ids, aspect_id__in=[a.pk for a in aspects.values()])
                                             .order_by("recorded_on").values_list("pupil_id", "aspect_id", "recorded_on",
                                                                                  "grade__points")):
        first_last = series.setdefault((pupil_id, aspect_id), [Point(day, points), Point(day, points)])
        first_last[1] = Point(day, points)
    targets = {(pupil_id, subject_id): Point(due_on, points) for pupil_id, subject_id, due_on, points in
               Target.objects.filter(pupil_id__in=ids, subject_id__in=list(aspects))
               .values_list("pupil_id", "subject_id", "due_on", "grade__points")}
    rank_of = {status: rank for rank, status in PROGRESS_RANK.items()}
    for pupil in pupils:
        ranks = {}
        for subject_id, aspect in aspects.items():
            first_last = series.get((pupil.pk, aspect.pk))
            status = UNKNOWN
            if first_last and not (pupil.processing_restricted or pupil.processing_objected):
                status = progress_status(baseline=first_last[0], target=targets.get((pupil.pk, subject_id)),
                                         latest=first_last[1])
            ranks[subject_id] = rank_of.get(status)
            if subject is None:
                setattr(pupil, f"progress_{subject_id}", ranks[subject_id])
        known = [r for r in ranks.values() if r is not None]
        pupil.progress_rank = min(known) if known else None
    return pupils


def pupils_with_progress(pupils: QuerySet[Pupil], *, subject: Subject | None = None, sort: str = "name",
                         annotate: bool = True, aspects: dict[int, Aspect] | None = None,
                         ) -> tuple[QuerySet[Pupil], list[Subject]]:
    """The pupils annotated with their progress against the flight path (``progress_rank``: 1 below,
    2 on, 3 above, None without enough data) in ``subject``, or overall (their lowest over the
    subjects; each subject's as ``progress_<subject id>``), in the database, and sorted by ``sort``
    (name, year or progress; a leading "-" reverses). ``annotate=False`` (sorting by name or year, no
    filter on progress) leaves the progress to ``progress_attach`` on the page's pupils. Returns
    the subjects that have a headline aspect."""
    from django.db.models import F
    from django.db.models.functions import Least

    aspects = headline_aspects() if aspects is None else aspects
    subjects = [a.subject for a in sorted(aspects.values(), key=lambda a: a.subject.name)]
    if not annotate:
        if sort.removeprefix("-") == "progress":
            raise ValueError("sorting by progress needs the annotation")
    elif subject is not None:
        aspect = aspects.get(subject.pk)
        rank = _status_rank(aspect) if aspect else None
        pupils = pupils.annotate(progress_rank=rank) if rank is not None else pupils.annotate(
            progress_rank=models.Value(None, output_field=models.IntegerField()))
    else:
        per_subject = {f"progress_{a.subject_id}": _status_rank(a) for a in aspects.values()}
        pupils = pupils.annotate(**per_subject)
        names = [F(name) for name in per_subject]
        rank = (Least(*names) if len(names) > 1 else names[0]) if names else models.Value(
            None, output_field=models.IntegerField())
        pupils = pupils.annotate(progress_rank=rank)
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    if key == "year":
        order = [F("year_group").desc() if descending else F("year_group").asc(), "surname", "forename", "pk"]
    elif key == "progress":
        order = [F("progress_rank").desc(nulls_last=True) if descending else F("progress_rank").asc(nulls_last=True),
                 "surname", "forename", "pk"]
    else:
        order = [F("surname").desc() if descending else F("surname").asc(),
                 F("forename").desc() if descending else F("forename").asc(), "pk"]
    return pupils.order_by(*order), subjects


def progress_label(rank: int | None) -> str:
    return LABELS[PROGRESS_RANK.get(rank, UNKNOWN)]
