"""The school's assessment calendar: its assessment points (data drops), the window of dates each
point covers, which point is current, and locking.

A result counts towards the point whose window holds its date. A point's window runs from the day
after the previous point of the same school year (from 1 September for the year's first point) to
the point's own date, inclusive; results dated after a school year's last point belong to no point.
A school with no calendar gets Autumn, Spring and Summer (``DEFAULT_TERMS``) for the previous, the
current and the next school year; a new school year takes the previous year's dates a year on.

A locked point refuses every change to the results in its window (marksheet, spreadsheet upload,
Xporter import) and to its own date; locking and unlocking are change-logged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.dates import PLANNED
from tenants.assessment.models import AssessmentPoint

# (name, month, day): typical data-drop deadlines of an English school's three terms.
DEFAULT_TERMS = (("Autumn", 12, 10), ("Spring", 3, 25), ("Summer", 7, 10))
SCHOOL_YEAR_STARTS = (9, 1)  # 1 September


def school_year(day: dt.date) -> int:
    """The calendar year a school year starts in: 2026 for 1 September 2026 to 31 August 2027."""
    return day.year if (day.month, day.day) >= SCHOOL_YEAR_STARTS else day.year - 1


def school_year_label(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def school_year_start(start_year: int) -> dt.date:
    return dt.date(start_year, *SCHOOL_YEAR_STARTS)


@dataclass(frozen=True)
class Window:
    """The dates whose results count towards ``point``: ``starts_on`` to ``ends_on`` inclusive."""

    point: AssessmentPoint
    starts_on: dt.date
    ends_on: dt.date

    def holds(self, day: dt.date) -> bool:
        return self.starts_on <= day <= self.ends_on


def default_points(start_year: int) -> list[AssessmentPoint]:
    """Autumn, Spring and Summer of the school year starting in ``start_year`` (unsaved)."""
    points = []
    for name, month, day in DEFAULT_TERMS:
        year = start_year if month >= SCHOOL_YEAR_STARTS[0] else start_year + 1
        label = f"{name} {year}"
        points.append(AssessmentPoint(name=label, date=dt.date(year, month, day)))
    return points


def calendar_ensure(today: dt.date | None = None) -> None:
    """Give the school a calendar for the current school year if it has no point in it: the
    previous year's points a year on, or the defaults (with the previous and next years too for a
    school with no calendar at all). Idempotent and safe under concurrent requests."""
    today = today or clock.today()
    year = school_year(today)
    start, end = school_year_start(year), school_year_start(year + 1) - dt.timedelta(days=1)
    if AssessmentPoint.objects.filter(date__range=(start, end)).exists():
        return
    previous = list(AssessmentPoint.objects.filter(date__range=(school_year_start(year - 1), start - dt.timedelta(days=1))))
    if previous:
        new = [AssessmentPoint(name=_year_on(p.name, p.date), date=_add_year(p.date)) for p in previous]
    elif AssessmentPoint.objects.exists():
        new = default_points(year)
    else:
        new = default_points(year - 1) + default_points(year) + default_points(year + 1)
    AssessmentPoint.objects.bulk_create(new, ignore_conflicts=True)


def _add_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _year_on(name: str, day: dt.date) -> str:
    """"Spring 2026" -> "Spring 2027"; a name without its year gets the new one added."""
    year = str(day.year)
    if year in name:
        return name.replace(year, str(day.year + 1))
    return f"{name} {day.year + 1}"


def points_all() -> list[AssessmentPoint]:
    return list(AssessmentPoint.objects.all())


def windows(points: Iterable[AssessmentPoint] | None = None) -> list[Window]:
    """Each point's window, in date order."""
    ordered = sorted(points_all() if points is None else points, key=lambda p: p.date)
    result, previous = [], None
    for point in ordered:
        year = school_year(point.date)
        if previous is not None and school_year(previous.date) == year:
            starts = previous.date + dt.timedelta(days=1)
        else:
            starts = school_year_start(year)
        result.append(Window(point=point, starts_on=starts, ends_on=point.date))
        previous = point
    return result


def window_of(point: AssessmentPoint, all_windows: list[Window] | None = None) -> Window:
    for window in all_windows if all_windows is not None else windows():
        if window.point.pk == point.pk:
            return window
    raise AssessmentPoint.DoesNotExist(f"{point} is not in the calendar")


def point_for(day: dt.date, all_windows: list[Window] | None = None) -> AssessmentPoint | None:
    """The point whose window holds ``day``, if any."""
    for window in all_windows if all_windows is not None else windows():
        if window.holds(day):
            return window.point
    return None


def point_current(today: dt.date | None = None, all_windows: list[Window] | None = None) -> AssessmentPoint | None:
    """The point results are being collected for: the first whose date is today or later, else the last."""
    today = today or clock.today()
    all_windows = windows() if all_windows is None else all_windows
    for window in all_windows:
        if window.point.date >= today:
            return window.point
    return all_windows[-1].point if all_windows else None


def point_previous(point: AssessmentPoint, all_windows: list[Window] | None = None) -> AssessmentPoint | None:
    """The point before ``point`` in the calendar (across school years), if any."""
    ordered = [w.point for w in (windows() if all_windows is None else all_windows)]
    index = next((i for i, p in enumerate(ordered) if p.pk == point.pk), None)
    return ordered[index - 1] if index else None


# --- Locks -----------------------------------------------------------------------------------------


def locked_dates_check(days: Iterable[dt.date], all_windows: list[Window] | None = None) -> None:
    """Refuse, naming the point, any change to a result dated inside a locked point's window."""
    locked = [w for w in (windows() if all_windows is None else all_windows) if w.point.locked]
    if not locked:
        return
    for day in set(days):
        for window in locked:
            if window.holds(day):
                raise ValidationError(
                    f"{window.point.name} is locked: results dated {window.starts_on:%-d %b %Y} to "
                    f"{window.ends_on:%-d %b %Y} cannot be changed. A school admin can unlock it.",
                    code="point_locked")


def locked_windows(all_windows: list[Window] | None = None) -> list[Window]:
    return [w for w in (windows() if all_windows is None else all_windows) if w.point.locked]


@transaction.atomic
def point_lock(*, user, point: AssessmentPoint) -> AssessmentPoint:
    point = AssessmentPoint.objects.select_for_update().get(pk=point.pk)
    if point.locked:
        raise ValidationError(f"{point.name} is already locked.", code="already_locked")
    point.locked_at, point.locked_by = clock.now(), user
    point.save(update_fields=["locked_at", "locked_by"])
    change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=point, action=Action.UPDATE,
                      fields=["locked_at", "locked_by"])
    return point


@transaction.atomic
def point_unlock(*, user, point: AssessmentPoint) -> AssessmentPoint:
    point = AssessmentPoint.objects.select_for_update().get(pk=point.pk)
    if not point.locked:
        raise ValidationError(f"{point.name} is not locked.", code="not_locked")
    point.locked_at, point.locked_by = None, None
    point.save(update_fields=["locked_at", "locked_by"])
    change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=point, action=Action.UPDATE,
                      fields=["locked_at", "locked_by"])
    return point


# --- Editing the calendar ----------------------------------------------------------------------------


def _touches_locked(day: dt.date, *, ignore: AssessmentPoint | None = None) -> AssessmentPoint | None:
    """The locked point whose window a point dated ``day`` would reshape, if any: the point whose
    window holds the day, or the point itself."""
    others = [p for p in points_all() if ignore is None or p.pk != ignore.pk]
    for window in windows(others):
        if window.point.locked and window.holds(day):
            return window.point
    return None


def _check_name_and_date(name: str, day: dt.date, *, point: AssessmentPoint | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the assessment point a name, for example “Autumn 2026”."})
    if len(name) > 60:
        raise ValidationError({"name": "Keep the name to 60 characters."})
    PLANNED.check(day, field="date")
    clash = AssessmentPoint.objects.exclude(pk=point.pk if point else None)
    if clash.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"There is already an assessment point called “{name}”."})
    if clash.filter(date=day).exists():
        raise ValidationError({"date": f"There is already an assessment point on {day:%-d %B %Y}."})
    return name


@transaction.atomic
def point_add(*, user, name: str, date: dt.date) -> AssessmentPoint:
    name = _check_name_and_date(name, date)
    locked = _touches_locked(date)
    if locked:
        raise ValidationError({"date": f"That date falls in {locked.name}, which is locked."})
    point = AssessmentPoint.objects.create(name=name, date=date)
    change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=point, action=Action.CREATE,
                      fields=["name", "date"])
    return point


@transaction.atomic
def point_change(*, user, point: AssessmentPoint, name: str, date: dt.date) -> AssessmentPoint:
    point = AssessmentPoint.objects.select_for_update().get(pk=point.pk)
    name = _check_name_and_date(name, date, point=point)
    fields = [f for f, new in (("name", name), ("date", date)) if getattr(point, f) != new]
    if "date" in fields:
        if point.locked:
            raise ValidationError({"date": f"{point.name} is locked: unlock it to change its date."})
        locked = _touches_locked(date, ignore=point) or _next_locked(point)
        if locked:
            raise ValidationError({"date": f"Moving it would change which results count towards {locked.name}, "
                                           "which is locked."})
    point.name, point.date = name, date
    point.save(update_fields=["name", "date"])
    if fields:
        change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=point, action=Action.UPDATE,
                          fields=fields)
    return point


def _next_locked(point: AssessmentPoint) -> AssessmentPoint | None:
    """The point after ``point`` in the same school year, when it is locked (its window starts at ``point``)."""
    after = AssessmentPoint.objects.filter(date__gt=point.date).order_by("date").first()
    if after and after.locked and school_year(after.date) == school_year(point.date):
        return after
    return None


@transaction.atomic
def point_delete(*, user, point: AssessmentPoint) -> None:
    point = AssessmentPoint.objects.select_for_update().get(pk=point.pk)
    if point.locked:
        raise ValidationError(f"{point.name} is locked: unlock it before removing it.")
    locked = _next_locked(point)
    if locked:
        raise ValidationError(f"Removing {point.name} would change which results count towards {locked.name}, "
                              "which is locked.")
    change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=point, action=Action.DELETE)
    point.delete()
