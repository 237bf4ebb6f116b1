"""The retention planner: a pure function of (records, holds, shortenings, as-of date).

Each category's rule says how long from which date a record is kept (``PERIODS``, from the privacy
notice). A record is deleted on the day its period ends: a visit made on 1 January 2026 is kept
365 days and goes on 1 January 2027 (technical information counts in UTC days, as the visits'
partitions are UTC months); a request received on 2 May 2019 (the default rule, 7 years from
receipt) goes on 2 May 2026; tax records of the year ending 5 April 2026 go on 5 April
2034. Nothing is due while a legal hold covers it, and a client's retention may be shortened, with
the reason recorded. The planner only lists; the executor deletes.

A record whose dates cannot be computed with (a payment dated 9999-12-31 puts its tax year's end
in the year 10000, which Python's dates do not reach) is never due: it is left out of the plan,
logged as ``retention.unplannable``, and listed by ``unplannable`` for the console and the command
to show, while every other record is planned as usual.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import structlog

from shared import clock
from shared.privacy.retention.registry import Category

POLICY_VERSION = "2026-11"  # the privacy notice these periods come from
DATE_ERRORS = (OverflowError, ValueError)  # what date arithmetic beyond the year 9999 raises

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Period:
    months: int = 0
    days: int = 0

    def after(self, day: dt.date) -> dt.date:
        return clock.add_months(day, self.months) + dt.timedelta(days=self.days)

    def __str__(self) -> str:
        if self.days:
            return f"{self.days} days"
        return f"{self.months // 12} years" if self.months % 12 == 0 and self.months >= 12 else f"{self.months} months"


# What each kind of retention unit is kept for. Keys are the ``kind`` of a Record.
PERIODS: dict[str, tuple[Category, Period, str]] = {
    "tax_record": (Category.TAX, Period(months=96), "8 years from the end of the tax year it relates to"),
    "client_records": (Category.CONTRACT, Period(months=84),
                       "7 years from the end of the contract or the last use of the service, whichever is later"),
    "prospect": (Category.MARKETING, Period(months=36), "3 years from the last interaction"),
    "visit_partition": (Category.TECHNICAL, Period(days=365), "365 days (IP addresses and user ids)"),
    "change_log": (Category.TECHNICAL, Period(days=365), "365 days (user ids)"),
    "support_log": (Category.TECHNICAL, Period(days=365), "365 days (operators' user ids, pages opened)"),
    "mail_log": (Category.TECHNICAL, Period(days=365), "365 days (outgoing mail: addresses, subjects, texts)"),
    "mail_preference": (Category.MARKETING, Period(months=36),
                        "3 years from the last change of an address's mail preferences"),
    "contact": (Category.CONTRACT, Period(months=84),
                "7 years from when they stopped being the client's contact or our last dealing with them, "
                "whichever is later"),
    "school_configuration": (Category.CONFIGURATION, Period(months=3), "3 months after the contract was cancelled"),
    "school_database": (Category.PUPIL, Period(months=6), "6 months after the contract was cancelled"),
    "pupil": (Category.PUPIL, Period(months=12), "the school's grace period after the pupil left"),
    "default": (Category.DEFAULT, Period(months=84), "7 years from receipt"),
    # The default rule ("any category not specifically defined: 7 years from the date of receipt"),
    # each kind from its own date of receipt.
    "subject_request": (Category.DEFAULT, Period(months=84), "7 years from receipt (a closed subject request)"),
    "school_request": (Category.DEFAULT, Period(months=84), "7 years from receipt (a school's closed request)"),
    "breach": (Category.DEFAULT, Period(months=84),
               "7 years from receipt (a closed breach, from when we became aware of it; with its notifications)"),
    "disclosure": (Category.DEFAULT, Period(months=84), "7 years from receipt (a disclosure, from its date)"),
    "legal_hold": (Category.DEFAULT, Period(months=84), "7 years from the end of the legal hold"),
    "notice_version": (Category.DEFAULT, Period(months=84),
                       "7 years from when the next version of the privacy notice replaced it"),
    "terms_version": (Category.DEFAULT, Period(months=84),
                      "7 years from when the next version of the Terms of Use replaced it, once no acceptance names it"),
    "recipient_holding": (Category.DEFAULT, Period(months=84),
                          "7 years from receipt (a record of one person's data passed to a recipient)"),
    "recipient": (Category.DEFAULT, Period(months=84),
                  "7 years from its entry in the register of recipients, once it holds nothing recorded"),
    "erasure_ledger": (Category.DEFAULT, Period(),
                       "when the school's schema and every backup key of it are destroyed (no backup can restore "
                       "an erased person)"),
}


@dataclass(frozen=True)
class Record:
    """One thing retention may delete, with the date its period counts from. ``key`` and
    ``client_id`` are ids, never personal data; ``person`` (an internal person key) lets a hold
    name one person."""

    kind: str
    key: str
    counts_from: dt.date | None  # None: it could not be computed (``problem`` says why)
    client_id: int | None = None
    person: str | None = None
    period: Period | None = None  # the client's own period where it sets one (a school's grace period)
    problem: str = ""

    @property
    def category(self) -> Category:
        return PERIODS[self.kind][0]


def record_of(kind: str, key: str, counts_from: Callable[[], dt.date], **fields) -> Record:
    """A record whose start date is computed by ``counts_from``; where that overflows, a record
    the planner reports instead of planning."""
    try:
        return Record(kind, key, counts_from(), **fields)
    except DATE_ERRORS as error:
        return Record(kind, key, None, problem=f"its date is out of range ({error})", **fields)


@dataclass(frozen=True)
class Unplannable:
    """A record the planner could not plan, and why. It is never due until its data is corrected."""

    record: Record
    problem: str


@dataclass(frozen=True)
class Hold:
    """A legal hold: nothing it covers is deleted while it is active. It names a client, a person
    or a category (at least one); an absent end date means until lifted."""

    reason: str
    owner: str
    starts_on: dt.date
    ends_on: dt.date | None = None
    client_id: int | None = None
    person: str | None = None
    category: Category | None = None

    def active_on(self, day: dt.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def covers(self, record: Record) -> bool:
        return ((self.client_id is None or self.client_id == record.client_id)
                and (self.person is None or self.person == record.person)
                and (self.category is None or self.category == record.category))


@dataclass(frozen=True)
class Shortening:
    """A client's retention in one category, shortened on request, with the reason recorded."""

    client_id: int
    category: Category
    period: Period
    reason: str


@dataclass(frozen=True)
class Due:
    record: Record
    due_on: dt.date
    rule: str
    reason: str


def due_on(record: Record, shortenings: Iterable[Shortening] = ()) -> tuple[dt.date, str]:
    """When a record's period ends, and the rule it ends under."""
    category, period, rule = PERIODS[record.kind]
    if record.period is not None:
        period, rule = record.period, f"{rule} ({record.period})"
    for shortening in shortenings:
        if shortening.client_id == record.client_id and shortening.category == category:
            return shortening.period.after(record.counts_from), f"shortened to {shortening.period}: {shortening.reason}"
    return period.after(record.counts_from), rule


def _due_or_problem(record: Record, shortenings: list[Shortening]) -> tuple[dt.date, str] | Unplannable:
    if record.counts_from is None:
        return Unplannable(record, record.problem or "it has no date to count from")
    try:
        return due_on(record, shortenings)
    except DATE_ERRORS as error:
        return Unplannable(record, f"its period ends beyond the last date there is ({error})")


def unplannable(records: Iterable[Record], shortenings: Iterable[Shortening] = ()) -> list[Unplannable]:
    """The records whose deletion date cannot be computed (the plan leaves them out)."""
    shortenings = list(shortenings)
    found = (_due_or_problem(record, shortenings) for record in records)
    return sorted((item for item in found if isinstance(item, Unplannable)),
                  key=lambda item: (item.record.kind, item.record.key))


def plan(records: Iterable[Record], *, as_of: dt.date, holds: Iterable[Hold] = (),
         shortenings: Iterable[Shortening] = ()) -> list[Due]:
    """What is due for deletion on ``as_of``, and why: every record whose period has ended and
    that no active hold covers. Same inputs, same plan. A record that cannot be planned is
    logged and left out (see ``unplannable``); it stops no other."""
    active = [hold for hold in holds if hold.active_on(as_of)]
    shortenings = list(shortenings)
    due = []
    for record in records:
        planned = _due_or_problem(record, shortenings)
        if isinstance(planned, Unplannable):
            log.warning("retention.unplannable", kind=record.kind, unit=record.key, school_id=record.client_id,
                        problem=planned.problem)
            continue
        when, rule = planned
        if when > as_of or any(hold.covers(record) for hold in active):
            continue
        due.append(Due(record=record, due_on=when, rule=rule,
                       reason=f"{record.category.value}: kept {rule}; period ended {when.isoformat()}"))
    return sorted(due, key=lambda d: (d.due_on, d.record.kind, d.record.key))


def upcoming(records: Iterable[Record], *, as_of: dt.date, days: int = 90, holds: Iterable[Hold] = (),
             shortenings: Iterable[Shortening] = ()) -> list[Due]:
    """What falls due in the next ``days`` days (the retention calendar), held items excluded."""
    until = as_of + dt.timedelta(days=days)
    return [d for d in plan(records, as_of=until, holds=holds, shortenings=shortenings) if d.due_on > as_of]
