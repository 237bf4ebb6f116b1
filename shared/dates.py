"""The range every date a person types or an import carries must fall in: one place for it.

A date far outside any sensible range (a payment dated 9999-12-31) is accepted by PostgreSQL but
breaks the retention arithmetic done with it (the year 10000 does not exist in Python). So each
kind of date has a rule, ``PAST`` (received, occurred, paid, issued, recorded: not after today, not
before 1990), ``PLANNED`` (due dates, contract and hold dates, leaving dates: not before 1990, at
most five years ahead) and ``BIRTH`` (not after today, not before 1900), used by the form fields
below, by the services that take dates and by the Xporter import.

Bounds read ``shared.clock`` when a value is checked, never when this module is imported, so a
pinned clock or a long-running worker gets today's range.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from shared import clock

EARLIEST = dt.date(1990, 1, 1)
EARLIEST_BIRTH = dt.date(1900, 1, 1)
YEARS_AHEAD = 5


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class DateRange:
    """Dates from ``earliest`` to ``years_ahead`` years after today (0: today at the latest). A
    validator: call it with a date, or a datetime (its UK date is checked)."""

    name: str
    earliest: dt.date = EARLIEST
    years_ahead: int = 0

    def bounds(self) -> tuple[dt.date, dt.date]:
        today = clock.today()
        return self.earliest, clock.add_months(today, 12 * self.years_ahead)

    def message(self) -> str:
        earliest, latest = self.bounds()
        if self.years_ahead == 0:
            return f"Enter a date between {_long(earliest)} and today."
        return f"Enter a date between {_long(earliest)} and {_long(latest)}."

    def contains(self, value: dt.date | dt.datetime) -> bool:
        if isinstance(value, dt.datetime):
            value = timezone.localdate(value) if timezone.is_aware(value) else value.date()
        earliest, latest = self.bounds()
        return earliest <= value <= latest

    def __call__(self, value) -> None:
        if value is not None and not self.contains(value):
            raise ValidationError(self.message(), code=f"date_{self.name}")

    def check(self, value, *, field: str) -> None:
        """For services: a ValidationError on ``field`` when ``value`` (None allowed) is out of range."""
        if value is not None and not self.contains(value):
            raise ValidationError({field: self.message()}, code=f"date_{self.name}")


PAST = DateRange("past")
PLANNED = DateRange("planned", years_ahead=YEARS_AHEAD)
BIRTH = DateRange("birth", earliest=EARLIEST_BIRTH)

# HTML date inputs take ISO dates whatever the locale (en-GB would render 28/11/2026, which they drop).
DATE_INPUT = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
DATETIME_INPUT = forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"})


class PastDateField(forms.DateField):
    """A date that has happened: received, occurred, paid, issued, told."""

    default_validators = [PAST]

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", DATE_INPUT)
        super().__init__(**kwargs)


class PlannedDateField(forms.DateField):
    """A date that may lie ahead: due, starts, ends."""

    default_validators = [PLANNED]

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", DATE_INPUT)
        super().__init__(**kwargs)


class PastDateTimeField(forms.DateTimeField):
    """A moment that has happened (its date is checked, so a clock a minute fast is no matter)."""

    default_validators = [PAST]

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", DATETIME_INPUT)
        super().__init__(**kwargs)

