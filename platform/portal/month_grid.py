"""Month grids for a span of days (Monday first, as UK calendars are), each day marked with how many
things fall due on it: the retention page's 90-day calendar."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Day:
    date: dt.date
    in_month: bool
    in_span: bool
    due: int
    today: bool


@dataclass(frozen=True)
class Month:
    first: dt.date
    weeks: list[list[Day]]
    due: int


def month_grids(*, start: dt.date, days: int, due_on: list[dt.date]) -> list[Month]:
    """Every month from ``start``'s to that of ``start + days``, its weeks Monday to Sunday."""
    end = start + dt.timedelta(days=days)
    counts = Counter(due_on)
    months, year, month = [], start.year, start.month
    weeks_of = calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar
    while (year, month) <= (end.year, end.month):
        weeks = [[Day(d, d.month == month, start <= d <= end, counts[d] if d.month == month else 0, d == start)
                  for d in week] for week in weeks_of(year, month)]
        months.append(Month(dt.date(year, month, 1), weeks,
                            sum(n for d, n in counts.items() if (d.year, d.month) == (year, month))))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
