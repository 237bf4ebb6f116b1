"""Reading record ids and dates from a request's query string or form data, for every site.

A malformed value (``aspect=abc``, ``date=2025-02-30``, an id too long for a bigint) is the
client's mistake: ``BadRequest`` makes it a 400 and the view stops before it reads or writes
anything, instead of the ORM or ``int()`` raising a 500 further in.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import BadRequest

from shared.dates import PAST, DateRange

MAX_ID_DIGITS = 18  # PostgreSQL's bigint holds up to 9.2e18


def parse_id(value: str, name: str) -> int:
    """``value`` as a record id (ASCII digits, so no "²" or "١"), or a 400 naming ``name``."""
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS):
        raise BadRequest(f"{name} must be a record id (a whole number).")
    return int(value)


def id_param(data, name: str, *, default: int | None = None) -> int | None:
    """The id named ``name`` in a QueryDict (``request.GET`` or ``request.POST``); ``default``
    when absent or blank, a 400 when malformed."""
    value = data.get(name)
    if value is None or value == "":
        return default
    return parse_id(value, name)


def date_param(data, name: str, *, rule: DateRange = PAST, default: dt.date | None = None) -> dt.date | None:
    """The ISO date named ``name`` in a QueryDict, within ``rule``; ``default`` when absent or
    blank, a 400 when it is not a date (2025-02-30) or is out of range."""
    value = data.get(name)
    if value is None or value == "":
        return default
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be a date such as 2026-09-01.") from None
    if not rule.contains(day):
        raise BadRequest(f"{name}: {rule.message()}")
    return day
