"""The privacy notice's schedule at its boundaries: the day before, the day of, the day after."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import clock
from shared.privacy.retention.registry import Category
from shared.privacy.retention.rules import Hold, Period, Record, Shortening, due_on, plan

D = dt.date


def deleted(record: Record, as_of: dt.date, **kwargs) -> bool:
    return [d.record for d in plan([record], as_of=as_of, **kwargs)] == [record]


def around(day: dt.date):
    return [(day - dt.timedelta(days=1), False), (day, True), (day + dt.timedelta(days=1), True)]


CASES = [
    # (what, record, the day it goes)
    ("tax record dated 5 April 2026 (tax year 2025-26, ends 5 April 2026)",
     Record("tax_record", "inv1", clock.uk_tax_year_end(clock.uk_tax_year(D(2026, 4, 5)))), D(2034, 4, 5)),
    ("tax record dated 6 April 2026 (tax year 2026-27, ends 5 April 2027)",
     Record("tax_record", "inv2", clock.uk_tax_year_end(clock.uk_tax_year(D(2026, 4, 6)))), D(2035, 4, 5)),
    ("client records: contract ended 31 July 2026, last used 15 October 2026 (later wins)",
     Record("client_records", "school1", max(D(2026, 7, 31), D(2026, 10, 15)), client_id=1), D(2033, 10, 15)),
    ("marketing record, last interaction 29 February 2024",
     Record("prospect", "p1", D(2024, 2, 29)), D(2027, 2, 28)),
    ("visit log partition whose last day is 29 February 2028",
     Record("visit_partition", "technical_visit_y2028m02", D(2028, 2, 29)), D(2029, 2, 28)),
    ("configuration files, contract cancelled 31 August 2026",
     Record("school_configuration", "school1", D(2026, 8, 31), client_id=1), D(2026, 11, 30)),
    ("school database, contract cancelled 31 August 2026",
     Record("school_database", "school1", D(2026, 8, 31), client_id=1), D(2027, 2, 28)),
    ("school database, contract cancelled 31 August 2027 (leap February follows)",
     Record("school_database", "school2", D(2027, 8, 31), client_id=2), D(2028, 2, 29)),
    ("anything else, received 29 February 2024", Record("default", "x1", D(2024, 2, 29)), D(2031, 2, 28)),
]


@pytest.mark.parametrize(("what", "record", "goes_on"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_at_its_boundary(what, record, goes_on):
    assert due_on(record)[0] == goes_on
    assert [deleted(record, day) for day, _ in around(goes_on)] == [expected for _, expected in around(goes_on)]


def test_the_5_and_6_april_edge_puts_records_a_year_apart():
    fifth = Record("tax_record", "a", clock.uk_tax_year_end(clock.uk_tax_year(D(2026, 4, 5))))
    sixth = Record("tax_record", "b", clock.uk_tax_year_end(clock.uk_tax_year(D(2026, 4, 6))))

    assert (due_on(sixth)[0] - due_on(fifth)[0]).days == 365


def test_a_hold_keeps_a_record_past_its_date_only_while_it_is_active():
    record = Record("prospect", "p1", D(2020, 1, 10), person="person-7")
    hold = Hold("Tribunal claim", "dpo", starts_on=D(2022, 6, 1), ends_on=D(2023, 3, 31), person="person-7")

    assert not deleted(record, D(2023, 1, 10), holds=[hold])   # due, but held
    assert not deleted(record, D(2023, 3, 31), holds=[hold])   # last day of the hold
    assert deleted(record, D(2023, 4, 1), holds=[hold])        # hold over: deleted


def test_a_hold_that_starts_and_ends_inside_the_period_changes_nothing():
    record = Record("visit_partition", "technical_visit_y2026m01", D(2026, 1, 31))
    hold = Hold("Fraud investigation", "dpo", starts_on=D(2026, 5, 1), ends_on=D(2026, 9, 30), category=Category.TECHNICAL)

    assert due_on(record)[0] == D(2027, 1, 31)
    assert not deleted(record, D(2027, 1, 30), holds=[hold]) and deleted(record, D(2027, 1, 31), holds=[hold])


def test_a_hold_names_a_client_a_person_or_a_category():
    a = Record("client_records", "s1", D(2010, 1, 1), client_id=1)
    b = Record("client_records", "s2", D(2010, 1, 1), client_id=2)
    on = D(2026, 1, 1)

    assert [d.record for d in plan([a, b], as_of=on, holds=[Hold("claim", "dpo", D(2025, 1, 1), client_id=1)])] == [b]
    assert plan([a, b], as_of=on, holds=[Hold("audit", "dpo", D(2025, 1, 1), category=Category.CONTRACT)]) == []


def test_a_shortened_retention_records_its_reason():
    record = Record("client_records", "s1", D(2026, 1, 1), client_id=1)
    shorter = Shortening(1, Category.CONTRACT, Period(months=12), "Client asked; no claims possible")

    [due] = plan([record], as_of=D(2027, 1, 1), shortenings=[shorter])

    assert due.due_on == D(2027, 1, 1) and "Client asked" in due.rule


kinds = st.sampled_from(["tax_record", "client_records", "prospect", "visit_partition", "school_configuration",
                         "school_database", "default"])
days = st.dates(min_value=D(2015, 1, 1), max_value=D(2035, 12, 31))


@settings(max_examples=300, deadline=None)
@given(
    records=st.lists(st.builds(Record, kind=kinds, key=st.uuids().map(str), counts_from=days,
                               client_id=st.sampled_from([None, 1, 2, 3]), person=st.sampled_from([None, "p1", "p2"])),
                     max_size=25),
    holds=st.lists(st.builds(Hold, reason=st.just("r"), owner=st.just("o"), starts_on=days,
                             ends_on=st.one_of(st.none(), days), client_id=st.sampled_from([None, 1, 2]),
                             person=st.sampled_from([None, "p1"]),
                             category=st.sampled_from([None, *Category])), max_size=3),
    as_of=days,
)
def test_nothing_is_deleted_early_or_held_and_everything_else_past_due_is(records, holds, as_of):
    planned = {d.record for d in plan(records, as_of=as_of, holds=holds)}

    for record in records:
        past_due = due_on(record)[0] <= as_of
        held = any(h.active_on(as_of) and h.covers(record) for h in holds)
        assert (record in planned) == (past_due and not held)
