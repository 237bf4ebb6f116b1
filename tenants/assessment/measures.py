"""Measures in schools' language, aggregated in the database.

At an assessment point, each pupil's result in a subject is their latest result on the subject's
headline aspect dated inside the point's window (``tenants.assessment.calendar``). From it:

- **% at the expected standard or above** and **% at greater depth**: the share of the pupils
  assessed at the point whose grade is the grade set's ``expected_from`` / ``greater_depth_from``
  or a later one (``tenants.assessment.standards``); none when the grade set names no such grade.
- **Progress against the flight path** at the point: below / on / above, as
  ``tenants.assessment.progress`` reads it (the baseline is the pupil's first headline result, the
  target the subject's target), compared exactly (no division) in SQL.
- **The change between two points** in percentage points: the difference of the two rounded
  percentages, each with its own counts.

Every percentage comes with its counts. A group with fewer than ``MIN_GROUP_SIZE`` pupils assessed
gets no percentage (``suppressed``), so that a figure never stands for one or two named children.
Pupils whose processing is restricted or objected to are left out.

Each read is one SQL statement over a latest-result-per-pupil subquery (``DISTINCT ON``), grouped
with conditional counts (``GROUPING SETS`` for the breakdowns): the number of queries is fixed,
whatever the school's size."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import QuerySet

from tenants.assessment.calendar import Window
from tenants.assessment.models import Aspect, AssessmentPoint, Grade, GradeSet, Result, Subject, Target
from tenants.assessment.progress import ABOVE, BELOW, ON, TOLERANCE, UNKNOWN
from tenants.pupils.models import Group, Pupil, SenProvision

MIN_GROUP_SIZE = 5  # fewer pupils assessed than this: counts only, no percentage
SUPPRESSED_NOTE = (f"Percentages are not shown for groups of fewer than {MIN_GROUP_SIZE} pupils assessed: "
                   "so few pupils make a percentage that swings on one child and can point to them.")

# The breakdowns of a cohort, in the order a page shows them: (key, heading).
BREAKDOWNS = (("all", "All pupils"), ("year", "Year group"), ("group", "Teaching group"),
              ("disadvantaged", "Disadvantaged"), ("sen", "SEN"), ("eal", "EAL"), ("fsm", "FSM"),
              ("looked_after", "Looked after"), ("gender", "Gender"))
_FLAG_LABELS = {"disadvantaged": ("Disadvantaged", "Not disadvantaged"), "sen": ("SEN", "No SEN"),
                "eal": ("EAL", "Not EAL"), "fsm": ("FSM", "Not FSM"), "looked_after": ("Looked after", "Not looked after")}
_GROUPED = ("year_group", "disadvantaged", "sen", "eal", "fsm", "looked_after", "gender")


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _percent(part: int, whole: int) -> int | None:
    """A whole-number percentage, or None for a group too small to show one."""
    if whole < MIN_GROUP_SIZE:
        return None
    return round(100 * part / whole)


@dataclass(frozen=True)
class Attainment:
    """One group's attainment at one point: counts, and the percentages they make."""

    assessed: int = 0
    expected: int = 0
    greater_depth: int = 0
    has_standards: bool = True  # False: the grade set names no expected grade

    @property
    def suppressed(self) -> bool:
        return 0 < self.assessed < MIN_GROUP_SIZE

    @property
    def expected_percent(self) -> int | None:
        return _percent(self.expected, self.assessed) if self.has_standards else None

    @property
    def greater_depth_percent(self) -> int | None:
        return _percent(self.greater_depth, self.assessed) if self.has_standards else None


@dataclass(frozen=True)
class Progress:
    below: int = 0
    on: int = 0
    above: int = 0

    @property
    def with_status(self) -> int:
        return self.below + self.on + self.above

    @property
    def suppressed(self) -> bool:
        return 0 < self.with_status < MIN_GROUP_SIZE

    @property
    def on_or_above_percent(self) -> int | None:
        return _percent(self.on + self.above, self.with_status)

    @property
    def below_percent(self) -> int | None:
        return _percent(self.below, self.with_status)


@dataclass(frozen=True)
class MeasureRow:
    """One group (a year, a teaching group, "Disadvantaged", ...) of a cohort in one subject."""

    label: str
    pupils: int
    at_point: Attainment
    at_comparison: Attainment | None
    progress: Progress
    key: str = ""  # the breakdown's value (a year group, a group id, "true"/"false", a gender code)

    @property
    def not_assessed(self) -> int:
        return self.pupils - self.at_point.assessed

    @staticmethod
    def _change(now: int | None, before: int | None) -> int | None:
        return None if now is None or before is None else now - before

    @property
    def expected_change(self) -> int | None:
        """Percentage points since the comparison point (None if either side is not shown)."""
        return self._change(self.at_point.expected_percent,
                            self.at_comparison.expected_percent if self.at_comparison else None)

    @property
    def greater_depth_change(self) -> int | None:
        return self._change(self.at_point.greater_depth_percent,
                            self.at_comparison.greater_depth_percent if self.at_comparison else None)


@dataclass
class CohortMeasures:
    subject: Subject
    aspect: Aspect | None
    point: AssessmentPoint
    comparison: AssessmentPoint | None
    has_standards: bool
    breakdowns: list[tuple[str, str, list[MeasureRow]]] = field(default_factory=list)  # (key, heading, rows)

    @property
    def overall(self) -> MeasureRow | None:
        for key, _, rows in self.breakdowns:
            if key == "all":
                return rows[0] if rows else None
        return None

    @property
    def any_suppressed(self) -> bool:
        return any(r.at_point.suppressed or (r.at_comparison and r.at_comparison.suppressed) or r.progress.suppressed
                   for _, _, rows in self.breakdowns for r in rows)


# --- The SQL -----------------------------------------------------------------------------------------


def _cohort_sql(pupils: QuerySet[Pupil]) -> tuple[str, list]:
    sql, params = pupils.order_by().values("id").query.sql_with_params()
    return sql, list(params)


def _per_pupil(*, pupils: QuerySet[Pupil], subject_ids: list[int] | None, window: Window | None,
               comparison: Window | None, since: dt.date | None = None,
               progress: bool = True) -> tuple[str, list]:
    """``WITH cohort ..., pp AS (...)``: one row per pupil of the cohort and headline aspect of the
    subjects (every subject: None), with the pupil's characteristics, their latest grade at
    ``window`` (``a_*``; with ``since``, from that day rather than the window's start) and at
    ``comparison`` (``b_*``; NULL without one), the grade set's thresholds, and (with
    ``progress``) their progress status at ``window`` and their target's label.

    Each pupil's latest result in a window, and their first result (the flight path's baseline),
    is a ``LATERAL`` subquery with ``LIMIT 1`` that reads one entry of the results' unique index
    (pupil, aspect, date), and their target one entry of the targets' (pupil, subject): the plan
    is the same nested loop over index lookups whatever the tables' statistics say (a freshly
    imported school has none yet), and a read skips the lookups it does not need."""
    cohort, cohort_params = _cohort_sql(pupils)
    pupil, result, grade, aspect, grade_set, target = (_table(m) for m in (Pupil, Result, Grade, Aspect, GradeSet, Target))
    a_start = since if since is not None else (window.starts_on if window else None)
    a_end = window.ends_on if window else None

    def one_result(order: str, dated: bool) -> str:
        return f"""(SELECT r.recorded_on, g.id AS grade_id, g."order" AS grade_order, g.points, g.label
                FROM {result} r JOIN {grade} g ON g.id = r.grade_id
                WHERE r.pupil_id = p.id AND r.aspect_id = asp.aspect_id{" AND r.recorded_on BETWEEN %s AND %s" if dated else ""}
                ORDER BY r.recorded_on {order} LIMIT 1)"""

    # Progress (tenants.assessment.progress), multiplied through by the flight path's span in days
    # so that nothing is divided: with d = days from baseline to the result and s = days from
    # baseline to the target, the path expects bp + (tp - bp) * d / s.
    status = f"""CASE
        WHEN a.recorded_on IS NULL OR bl.recorded_on IS NULL OR t.id IS NULL OR a.recorded_on <= bl.recorded_on
            THEN '{UNKNOWN}'
        WHEN (t.due_on - bl.recorded_on) <= 0 OR a.recorded_on >= t.due_on THEN
            CASE WHEN a.points < t.points - %s THEN '{BELOW}' WHEN a.points > t.points + %s THEN '{ABOVE}' ELSE '{ON}' END
        WHEN (a.points - bl.points + %s) * (t.due_on - bl.recorded_on)
             < (t.points - bl.points) * (a.recorded_on - bl.recorded_on) THEN '{BELOW}'
        WHEN (a.points - bl.points - %s) * (t.due_on - bl.recorded_on)
             > (t.points - bl.points) * (a.recorded_on - bl.recorded_on) THEN '{ABOVE}'
        ELSE '{ON}' END""" if progress else f"'{UNKNOWN}'"
    subjects = "AND a.subject_id = ANY(%s)" if subject_ids is not None else ""
    joins = [f"LEFT JOIN LATERAL {one_result('DESC', True)} a ON true"]
    if comparison is not None:
        joins.append(f"LEFT JOIN LATERAL {one_result('DESC', True)} b ON true")
    if progress:
        joins += [f"LEFT JOIN LATERAL {one_result('', False)} bl ON true",
                  f"""LEFT JOIN LATERAL (SELECT t.id, t.due_on, g.points, g.label FROM {target} t JOIN {grade} g ON g.id = t.grade_id
                               WHERE t.pupil_id = p.id AND t.subject_id = asp.subject_id LIMIT 1) t ON true"""]
    b_columns = "b.grade_id AS b_grade, b.grade_order AS b_order" if comparison is not None else \
        "NULL::bigint AS b_grade, NULL::integer AS b_order"
    # The cohort first (MATERIALIZED: computed once, then each of its pupils looked up), so that
    # the planner never runs the lookups for every pupil of the school once per cohort pupil.
    sql = f"""WITH cohort AS MATERIALIZED (
            SELECT p.id, p.forename, p.surname, p.year_group, p.gender, (p.sen_provision <> %s) AS sen,
                   (p.pupil_premium OR p.fsm_ever6) AS disadvantaged, p.eal, p.fsm, p.looked_after
            FROM {pupil} p
            WHERE p.id IN ({cohort}) AND NOT p.processing_restricted AND NOT p.processing_objected),
        pp AS (
            SELECT p.*, asp.aspect_id, asp.subject_id, asp.exp_order, asp.gd_order,
                   a.grade_id AS a_grade, a.grade_order AS a_order, a.label AS a_label, {b_columns},
                   {"t.label" if progress else "NULL::text"} AS target_label, {status} AS status
            FROM cohort p
            CROSS JOIN (SELECT a.id AS aspect_id, a.subject_id, ge."order" AS exp_order, gg."order" AS gd_order
                        FROM {aspect} a JOIN {grade_set} gs ON gs.id = a.grade_set_id
                             LEFT JOIN {grade} ge ON ge.id = gs.expected_from_id
                             LEFT JOIN {grade} gg ON gg.id = gs.greater_depth_from_id
                        WHERE a.is_headline {subjects}) asp
            {" ".join(joins)})
        """
    params = [SenProvision.NONE, *cohort_params, *([TOLERANCE] * 4 if progress else []),
              *([list(subject_ids)] if subject_ids is not None else []), a_start, a_end,
              *([comparison.starts_on, comparison.ends_on] if comparison is not None else [])]
    return sql, params


_COUNTS = f"""count(*) AS pupils,
    count(a_order) AS a_assessed, count(*) FILTER (WHERE a_order >= exp_order) AS a_expected,
    count(*) FILTER (WHERE a_order >= gd_order) AS a_gd,
    count(b_order) AS b_assessed, count(*) FILTER (WHERE b_order >= exp_order) AS b_expected,
    count(*) FILTER (WHERE b_order >= gd_order) AS b_gd,
    count(*) FILTER (WHERE status = '{BELOW}') AS below, count(*) FILTER (WHERE status = '{ON}') AS on_track,
    count(*) FILTER (WHERE status = '{ABOVE}') AS above"""


def _fetch(sql: str, params: list) -> list[tuple]:
    """Runs one statement. (JIT compilation, which cost more than these statements on a freshly
    imported school's tables, is off for every connection: ``config.postgresql.base``.)"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def natural_key(label: str) -> tuple:
    """Sorts "Year 2" before "Year 10"."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", label))


def _label(breakdown: str, key) -> str:
    if breakdown in _FLAG_LABELS:
        return _FLAG_LABELS[breakdown][0 if key else 1]
    if breakdown == "gender":
        return Pupil.Gender(key).label if key in Pupil.Gender.values else str(key)
    if breakdown == "year":
        return key or "No year"
    return str(key)


# --- Reads ---------------------------------------------------------------------------------------------


def headline_aspect(subject: Subject) -> Aspect | None:
    return Aspect.objects.filter(subject=subject, is_headline=True).select_related("grade_set").first()


def cohort_measures(*, pupils: QuerySet[Pupil], subject: Subject, window: Window, comparison: Window | None,
                    groups: QuerySet[Group] | None = None) -> CohortMeasures:
    """A subject's measures at ``window``'s point for the cohort ``pupils``, broken down by year,
    teaching group (those of ``groups``), and characteristic, with the change since
    ``comparison``'s point. Two queries (the headline aspect, then one statement)."""
    aspect = headline_aspect(subject)
    has_standards = bool(aspect and aspect.grade_set.expected_from_id)
    measures = CohortMeasures(subject=subject, aspect=aspect, point=window.point,
                              comparison=comparison.point if comparison else None, has_standards=has_standards)
    if aspect is None:
        return measures
    with_cte, params = _per_pupil(pupils=pupils, subject_ids=[subject.pk], window=window, comparison=comparison)
    sets = ", ".join(["()", *(f"({c})" for c in _GROUPED)])
    group_part = ""
    if groups is not None:
        group_sql, group_params = groups.order_by().values("id").query.sql_with_params()
        membership = _table(Group.pupils.through)
        group_part = f"""UNION ALL
            SELECT 'group', gp.group_id::text, min(g.name), {_COUNTS}
            FROM pp JOIN {membership} gp ON gp.pupil_id = pp.id JOIN {_table(Group)} g ON g.id = gp.group_id
            WHERE gp.group_id IN ({group_sql}) GROUP BY gp.group_id"""
        params = [*params, *group_params]
    sql = f"""{with_cte}
        SELECT CASE {" ".join(f"WHEN GROUPING({c}) = 0 THEN '{c}'" for c in _GROUPED)} ELSE 'all' END,
               COALESCE({", ".join(f"CASE WHEN GROUPING({c}) = 0 THEN {c}::text END" for c in _GROUPED)}),
               NULL::text, {_COUNTS}
        FROM pp GROUP BY GROUPING SETS ({sets})
        {group_part}"""
    rows: dict[str, list[MeasureRow]] = {key: [] for key, _ in BREAKDOWNS}
    for dimension, key, name, pupils_n, a_n, a_exp, a_gd, b_n, b_exp, b_gd, below, on, above in _fetch(sql, params):
        breakdown = {"year_group": "year"}.get(dimension, dimension)
        if breakdown in _FLAG_LABELS:
            value = key == "true"
        else:
            value = key
        label = "All pupils" if breakdown == "all" else name if breakdown == "group" else _label(breakdown, value)
        rows[breakdown].append(MeasureRow(
            label=label, key=key or "", pupils=pupils_n,
            at_point=Attainment(a_n, a_exp, a_gd, has_standards),
            at_comparison=Attainment(b_n, b_exp, b_gd, has_standards) if comparison else None,
            progress=Progress(below, on, above)))
    for breakdown, found in rows.items():
        if breakdown in _FLAG_LABELS:
            found.sort(key=lambda r: r.key != "true")  # the characteristic first, then the rest
        else:
            found.sort(key=lambda r: natural_key(r.label))
    measures.breakdowns = [(key, heading, rows[key]) for key, heading in BREAKDOWNS
                           if rows[key] and (key != "group" or groups is not None)]
    return measures


# --- Transition matrix ---------------------------------------------------------------------------------


@dataclass
class TransitionMatrix:
    """Pupils counted by their grade at ``earlier`` (rows) and at ``later`` (columns); a grade of
    None is "no result at that point"."""

    subject: Subject
    aspect: Aspect | None
    earlier: AssessmentPoint
    later: AssessmentPoint
    year: str
    grades: list[Grade]
    cells: dict[tuple[int | None, int | None], int]

    @property
    def axis(self) -> list[tuple[int | None, str]]:
        return [*((g.pk, g.label) for g in self.grades), (None, "No result")]

    def count(self, earlier: int | None, later: int | None) -> int:
        return self.cells.get((earlier, later), 0)

    def row_total(self, earlier: int | None) -> int:
        return sum(n for (e, _), n in self.cells.items() if e == earlier)

    def column_total(self, later: int | None) -> int:
        return sum(n for (_, la), n in self.cells.items() if la == later)

    @property
    def total(self) -> int:
        return sum(self.cells.values())

    def table(self) -> list[tuple[int | None, str, list[tuple[int | None, int]], int]]:
        """Rows for a template: (earlier grade id, label, [(later grade id, count)], row total)."""
        return [(e, label, [(la, self.count(e, la)) for la, _ in self.axis], self.row_total(e)) for e, label in self.axis]


def transition_matrix(*, pupils: QuerySet[Pupil], subject: Subject, year: str, earlier: Window,
                      later: Window) -> TransitionMatrix:
    """The matrix for one subject and year group (``year`` "" for every year). Three queries."""
    aspect = headline_aspect(subject)
    cohort = pupils.filter(year_group=year) if year else pupils
    grades = list(aspect.grade_set.grades.all()) if aspect else []
    cells: dict[tuple[int | None, int | None], int] = {}
    if aspect is not None:
        # at_a is the later point (the one the measures are "at"), at_b the earlier one.
        with_cte, params = _per_pupil(pupils=cohort, subject_ids=[subject.pk], window=later, comparison=earlier,
                                      progress=False)
        for earlier_grade, later_grade, n in _fetch(f"{with_cte} SELECT b_grade, a_grade, count(*) FROM pp "
                                                    "GROUP BY b_grade, a_grade", params):
            cells[(earlier_grade, later_grade)] = n
    return TransitionMatrix(subject=subject, aspect=aspect, earlier=earlier.point, later=later.point, year=year,
                            grades=grades, cells=cells)


def transition_pupils(*, pupils: QuerySet[Pupil], subject: Subject, year: str, earlier: Window, later: Window,
                      earlier_grade: int | None, later_grade: int | None) -> list[tuple[int, str, str]]:
    """The pupils of one cell of the matrix: (id, forename, surname), by name. Two queries."""
    aspect = headline_aspect(subject)
    if aspect is None:
        return []
    cohort = pupils.filter(year_group=year) if year else pupils
    with_cte, params = _per_pupil(pupils=cohort, subject_ids=[subject.pk], window=later, comparison=earlier,
                                  progress=False)
    return [tuple(row) for row in _fetch(
        f"{with_cte} SELECT id, forename, surname FROM pp WHERE b_grade IS NOT DISTINCT FROM %s "
        "AND a_grade IS NOT DISTINCT FROM %s ORDER BY surname, forename, id", [*params, earlier_grade, later_grade])]


# --- Dashboards ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectAttainment:
    subject_id: int
    subject: str
    pupils: int
    at_point: Attainment
    at_previous: Attainment | None

    @property
    def expected_change(self) -> int | None:
        now, before = self.at_point.expected_percent, self.at_previous.expected_percent if self.at_previous else None
        return None if now is None or before is None else now - before


def attainment_by_subject(*, pupils: QuerySet[Pupil], window: Window, previous: Window | None) -> list[SubjectAttainment]:
    """% at the expected standard or above in every subject at ``window``'s point and at the
    previous one. One query."""
    subjects = _table(Subject)
    with_cte, params = _per_pupil(pupils=pupils, subject_ids=None, window=window, comparison=previous, progress=False)
    sql = f"""{with_cte}
        SELECT pp.subject_id, min(s.name), bool_or(exp_order IS NOT NULL), {_COUNTS}
        FROM pp JOIN {subjects} s ON s.id = pp.subject_id GROUP BY pp.subject_id ORDER BY min(s.name)"""
    found = []
    for subject_id, name, standards, pupils_n, a_n, a_exp, a_gd, b_n, b_exp, b_gd, *_ in _fetch(sql, params):
        found.append(SubjectAttainment(subject_id=subject_id, subject=name, pupils=pupils_n,
                                       at_point=Attainment(a_n, a_exp, a_gd, standards),
                                       at_previous=Attainment(b_n, b_exp, b_gd, standards) if previous else None))
    return found


def pupils_without_result(*, pupils: QuerySet[Pupil], window: Window, limit: int | None = None) -> tuple[int, list]:
    """Pupils of the cohort with no headline result in any subject at ``window``'s point: how
    many, and (up to ``limit``) who: (id, forename, surname, year group). One query."""
    cohort, cohort_params = _cohort_sql(pupils)
    result, aspect, pupil = _table(Result), _table(Aspect), _table(Pupil)
    sql = f"""SELECT p.id, p.forename, p.surname, p.year_group, count(*) OVER ()
        FROM {pupil} p
        WHERE p.id IN ({cohort}) AND NOT p.processing_restricted AND NOT p.processing_objected
          AND NOT EXISTS (SELECT 1 FROM {result} r JOIN {aspect} a ON a.id = r.aspect_id AND a.is_headline
                          WHERE r.pupil_id = p.id AND r.recorded_on BETWEEN %s AND %s)
        ORDER BY p.surname, p.forename, p.id"""
    params = [*cohort_params, window.starts_on, window.ends_on]
    if limit == 0:  # the count alone
        return _fetch(f"SELECT count(*) FROM ({sql}) AS missing", params)[0][0], []
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    rows = _fetch(sql, params)
    return (rows[0][4] if rows else 0), [row[:4] for row in rows]


@dataclass(frozen=True)
class GroupMarks:
    group_id: int
    name: str
    pupils: int
    subjects: int
    marks: int

    @property
    def expected_marks(self) -> int:
        return self.pupils * self.subjects

    @property
    def missing(self) -> int:
        return self.expected_marks - self.marks


def marks_missing_by_group(*, groups: QuerySet[Group], window: Window) -> list[GroupMarks]:
    """For each group: its pupils on roll, and how many of their headline marks (one per pupil and
    subject) have no result at ``window``'s point. One query."""
    group_sql, group_params = groups.order_by().values("id").query.sql_with_params()
    group, membership, pupil, result, aspect = (_table(m) for m in (Group, Group.pupils.through, Pupil, Result, Aspect))
    sql = f"""WITH asp AS (SELECT id FROM {aspect} WHERE is_headline),
        members AS (SELECT gp.group_id, gp.pupil_id FROM {membership} gp JOIN {pupil} p ON p.id = gp.pupil_id
                    WHERE p.on_roll AND gp.group_id IN ({group_sql})),
        marks AS (SELECT m.group_id, count(DISTINCT (r.pupil_id, r.aspect_id)) AS marks
                  FROM members m JOIN {result} r ON r.pupil_id = m.pupil_id
                  WHERE r.aspect_id IN (SELECT id FROM asp) AND r.recorded_on BETWEEN %s AND %s GROUP BY m.group_id),
        sizes AS (SELECT group_id, count(*) AS pupils FROM members GROUP BY group_id)
        SELECT g.id, g.name, COALESCE(s.pupils, 0), (SELECT count(*) FROM asp), COALESCE(k.marks, 0)
        FROM {group} g LEFT JOIN sizes s ON s.group_id = g.id LEFT JOIN marks k ON k.group_id = g.id
        WHERE g.id IN ({group_sql}) ORDER BY g.name, g.id"""
    rows = _fetch(sql, [*group_params, window.starts_on, window.ends_on, *group_params])
    return [GroupMarks(*row) for row in rows]


def pupils_below_flight_path(*, pupils: QuerySet[Pupil], window: Window, limit: int = 50) -> tuple[int, list]:
    """The cohort's pupils below their flight path in a subject, on their latest headline result up
    to ``window``'s point: how many (pupil, subject) pairs, and up to ``limit`` of them as
    (pupil id, forename, surname, subject, latest grade, target grade). One query."""
    with_cte, params = _per_pupil(pupils=pupils, subject_ids=None, window=window, comparison=None,
                                  since=dt.date(1900, 1, 1))
    sql = f"""{with_cte}
        SELECT pp.id, pp.forename, pp.surname, s.name, pp.a_label, pp.target_label, count(*) OVER ()
        FROM pp JOIN {_table(Subject)} s ON s.id = pp.subject_id
        WHERE pp.status = '{BELOW}' ORDER BY pp.surname, pp.forename, pp.id, s.name LIMIT %s"""
    rows = _fetch(sql, [*params, limit])
    return (rows[0][6] if rows else 0), [row[:6] for row in rows]
