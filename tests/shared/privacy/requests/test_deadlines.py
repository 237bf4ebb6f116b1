"""The ICO's one-month rule, with its month ends, weekends, bank holidays, pauses and extensions."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.privacy.requests.deadlines import is_working_day, response_deadline

D = dt.date


@pytest.mark.parametrize(("received", "deadline", "why"), [
    (D(2026, 11, 18), D(2026, 12, 18), "same date next month (a Friday)"),
    (D(2027, 1, 31), D(2027, 3, 1), "no 31 February: last day, 28 Feb 2027, is a Sunday -> Monday"),
    (D(2028, 1, 31), D(2028, 2, 29), "leap year: 29 February 2028, a Tuesday"),
    (D(2026, 11, 25), D(2026, 12, 29), "Christmas Day (Fri), weekend, Boxing Day substitute (Mon 28th) -> Tue 29th"),
    (D(2027, 4, 26), D(2027, 5, 26), "same date next month (a Wednesday)"),
    (D(2027, 4, 3), D(2027, 5, 4), "3 May 2027 is the early May bank holiday -> Tuesday 4th"),
])
def test_one_month_by_the_ico_rule(received, deadline, why):
    assert response_deadline(received_on=received) == deadline, why


def test_bank_holidays_are_not_working_days():
    assert not is_working_day(D(2026, 12, 25)) and not is_working_day(D(2026, 12, 28))
    assert not is_working_day(D(2027, 5, 3))  # early May bank holiday
    assert is_working_day(D(2026, 12, 29))


def test_the_clock_stops_for_the_days_spent_waiting_for_clarification():
    assert response_deadline(received_on=D(2026, 11, 2), paused_days=10) == D(2026, 12, 14)


def test_an_extension_adds_up_to_two_further_months():
    assert response_deadline(received_on=D(2026, 11, 30), extension_months=2) == D(2027, 3, 1)  # 28 Feb is a Sunday
    with pytest.raises(ValueError, match="0 to 2 further months"):
        response_deadline(received_on=D(2026, 11, 30), extension_months=3)
