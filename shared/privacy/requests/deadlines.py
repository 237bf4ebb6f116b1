"""Deadlines for data subjects' requests by the ICO's rule, as pure functions of dates.

The one-month time limit ends on the same calendar date in the next month; where that date does
not exist (31 January -> February), on the last day of that month; where it falls on a weekend or
a bank holiday (England and Wales), on the next working day. The clock does not run while the
request waits for proof of identity or clarification. An extension adds up to two further months.
"""

from __future__ import annotations

import datetime as dt
import functools

import holidays

from shared import clock

MAX_EXTENSION_MONTHS = 2


@functools.cache
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.UK(subdiv="ENG", years=year)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def next_working_day(day: dt.date) -> dt.date:
    """``day`` itself if it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def response_deadline(*, received_on: dt.date, paused_days: int = 0, extension_months: int = 0) -> dt.date:
    """The last day to answer a request received on ``received_on``, after ``paused_days`` days
    waiting for identity or clarification and an extension of ``extension_months`` (0 to 2)."""
    if not 0 <= extension_months <= MAX_EXTENSION_MONTHS:
        raise ValueError(f"an extension is 0 to {MAX_EXTENSION_MONTHS} further months, not {extension_months}")
    if paused_days < 0:
        raise ValueError("paused days cannot be negative")
    start = received_on + dt.timedelta(days=paused_days)
    return next_working_day(clock.add_months(start, 1 + extension_months))
