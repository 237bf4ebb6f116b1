"""The ICO's 72-hour clock at its boundary: just before, exactly at, and just after 72 hours."""

from __future__ import annotations

import datetime as dt

from shared.compliance.breach_report_deadline import report_clock

AWARE = dt.datetime(2027, 3, 5, 9, 30, tzinfo=dt.UTC)
H72 = AWARE + dt.timedelta(hours=72)
SECOND = dt.timedelta(seconds=1)


def clock_at(as_of, decision="", reported_at=None):
    return report_clock(aware_at=AWARE, decision=decision, reported_at=reported_at, as_of=as_of)


def test_the_deadline_is_72_hours_after_awareness():
    assert clock_at(AWARE).deadline == dt.datetime(2027, 3, 8, 9, 30, tzinfo=dt.UTC)


def test_just_before_72_hours_it_is_near_due_not_overdue():
    state = clock_at(H72 - SECOND)

    assert (state.state, state.overdue, state.near_due) == ("near_due", False, True)
    assert state.remaining == SECOND
    assert state.label == "under a minute left"


def test_exactly_at_72_hours_it_is_due_now_not_overdue():
    state = clock_at(H72)

    assert (state.state, state.overdue) == ("near_due", False)
    assert state.label == "due now"


def test_just_after_72_hours_it_is_overdue():
    state = clock_at(H72 + SECOND)

    assert (state.state, state.overdue) == ("overdue", True)
    assert state.label == "overdue by under a minute"


def test_time_left_and_overdue_read_in_hours_and_minutes():
    assert clock_at(AWARE + dt.timedelta(hours=30, minutes=48)).label == "41 h 12 min left"
    assert clock_at(AWARE).label == "3 d 0 h left"
    assert clock_at(H72 + dt.timedelta(hours=3, minutes=5)).label == "overdue by 3 h 5 min"


def test_near_due_starts_when_under_24_hours_are_left():
    assert clock_at(H72 - dt.timedelta(hours=24)).state == "running"
    assert clock_at(H72 - dt.timedelta(hours=24) + SECOND).state == "near_due"


def test_a_report_stops_the_clock_on_time_or_late():
    assert clock_at(H72 + dt.timedelta(days=3), "report", reported_at=H72).state == "reported"
    late = clock_at(H72 + dt.timedelta(days=3), "report", reported_at=H72 + dt.timedelta(hours=2))
    assert (late.state, late.label) == ("reported_late", "reported 2 h 0 min late")


def test_a_decision_not_to_report_stops_the_clock():
    state = clock_at(H72 + dt.timedelta(days=1), "not_report")

    assert (state.state, state.running, state.overdue) == ("not_required", False, False)
