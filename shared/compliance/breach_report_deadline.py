"""The ICO's 72-hour deadline for reporting a breach, and where a report stands against it, as a
pure function of the breach's times.

A reportable breach is reported "without undue delay and, where feasible, not later than 72 hours
after having become aware of it" (UK GDPR Article 33(1)). So the deadline is the moment of
awareness plus 72 hours, and a report made exactly then is on time; a second later is late. The
clock stops when the breach is reported, or when the recorded decision is not to report it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

ICO_REPORT_WINDOW = dt.timedelta(hours=72)
NEAR_DUE = dt.timedelta(hours=24)


def ico_report_deadline(aware_at: dt.datetime) -> dt.datetime:
    return aware_at + ICO_REPORT_WINDOW


@dataclass(frozen=True)
class ReportClock:
    deadline: dt.datetime
    state: str  # running | near_due | overdue | reported | reported_late | not_required
    remaining: dt.timedelta  # until the deadline; negative once past it (at ``as_of``, or at the report)

    @property
    def running(self) -> bool:
        return self.state in ("running", "near_due", "overdue")

    @property
    def overdue(self) -> bool:
        return self.state == "overdue"

    @property
    def near_due(self) -> bool:
        return self.state == "near_due"

    @property
    def label(self) -> str:
        """"41 h 12 min left", "due now", "overdue by 3 h 5 min", "reported 2 h 10 min late"."""
        if self.state == "not_required":
            return "no report: decided not to report"
        if self.state == "reported":
            return "reported in time"
        if self.state == "reported_late":
            return f"reported {_duration(-self.remaining)} late"
        if self.remaining == dt.timedelta(0):
            return "due now"
        if self.remaining > dt.timedelta(0):
            return f"{_duration(self.remaining)} left"
        return f"overdue by {_duration(-self.remaining)}"


def report_clock(*, aware_at: dt.datetime, decision: str, reported_at: dt.datetime | None,
                 as_of: dt.datetime) -> ReportClock:
    """Where a breach's ICO report stands at ``as_of``. ``decision`` is "report", "not_report" or
    "" (not decided yet: the clock runs, since the decision must come in time to report)."""
    deadline = ico_report_deadline(aware_at)
    if reported_at is not None:
        remaining = deadline - reported_at
        return ReportClock(deadline, "reported" if remaining >= dt.timedelta(0) else "reported_late", remaining)
    if decision == "not_report":
        return ReportClock(deadline, "not_required", deadline - as_of)
    remaining = deadline - as_of
    if remaining < dt.timedelta(0):
        state = "overdue"
    elif remaining < NEAR_DUE:
        state = "near_due"
    else:
        state = "running"
    return ReportClock(deadline, state, remaining)


def _duration(span: dt.timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        days, hours = divmod(hours, 24)
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else "under a minute"
