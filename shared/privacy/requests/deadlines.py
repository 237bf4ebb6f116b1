"""Deadlines for data subjects' requests by the ICO's rule, as pure functions of dates.

The one-month time limit runs from the day the request is received (whether a working day or not)
to the same calendar date in the next month; where that date does not exist (31 January ->
February), to the last day of that month; where it falls on a weekend or a bank holiday (England
and Wales), to the next working day. An extension adds up to two further months, counted from the
same start ("three months from the original start date").

Waiting for something from the person, the ICO's guidance (right of access, "How long do we have to
comply?", as amended for the Data (Use and Access) Act 2025) distinguishes two cases, and so do we:

- **Proof of identity, or a fee** (one may be asked only for a manifestly unfounded or excessive
  request, or for further copies): the time limit is "one month of receipt of" the identity proof or
  the fee, calculated "from the day you receive the request, fee or other requested information".
  The clock RESTARTS: a full month from the day it arrives (``started_on``), whatever ran before.
  While waiting, nothing is due (the page shows the month it would have if it arrived today).
- **Clarification** of what the request covers: the clock STOPS ("stop the clock") and resumes
  when the clarification arrives, with the days it had left: the waiting days are added
  (``paused_days``), as in the ICO's example (deadline 15 March, clarification asked 20 February,
  answered 25 February: 5 days more, 20 March).

A pause recorded before a request carried its reason (``pause_reason`` blank) is a stopped clock,
as it was counted then.
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


def response_deadline(*, received_on: dt.date, paused_days: int = 0, extension_months: int = 0,
                      started_on: dt.date | None = None) -> dt.date:
    """The last day to answer a request received on ``received_on``, or whose clock restarted on
    ``started_on`` (the day a requested proof of identity or fee arrived), after ``paused_days`` days
    stopped for clarification since then and an extension of ``extension_months`` (0 to 2)."""
    if not 0 <= extension_months <= MAX_EXTENSION_MONTHS:
        raise ValueError(f"an extension is 0 to {MAX_EXTENSION_MONTHS} further months, not {extension_months}")
    if paused_days < 0:
        raise ValueError("paused days cannot be negative")
    if started_on is not None and started_on < received_on:
        raise ValueError("the clock cannot restart before the request was received")
    start = (started_on or received_on) + dt.timedelta(days=paused_days)
    return next_working_day(clock.add_months(start, 1 + extension_months))
