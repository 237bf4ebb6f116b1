"""The one clock, and the calendar rules deadlines and retention are computed with.

Deadline and retention arithmetic asks this module for "now", so a test or an ``--as-of`` flag can
stand on any day. The functions below are pure: they take dates and return dates.
"""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.utils import timezone


def now() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    return timezone.now()


def today() -> dt.date:
    """Today's date in the UK."""
    return timezone.localdate(now())


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later; the month's last day where it is shorter
    (31 August + 6 months is 28 or 29 February)."""
    return day + relativedelta(months=months)


def uk_tax_year(day: dt.date) -> int:
    """The UK tax year a date falls in, named by the year it starts: tax years run from 6 April
    to 5 April, so 5 April 2026 is in 2025 (2025-26) and 6 April 2026 in 2026 (2026-27)."""
    return day.year if (day.month, day.day) >= (4, 6) else day.year - 1


def uk_tax_year_label(start_year: int) -> str:
    """``2025`` -> ``"2025-26"``."""
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def uk_tax_year_end(start_year: int) -> dt.date:
    """The last day of a tax year: 5 April of the following year."""
    return dt.date(start_year + 1, 4, 5)


def date_from_iso(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
