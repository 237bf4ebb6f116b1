"""Technical information on the database at exactly 365 days: a change-log entry or a visit made
on (UTC) day D is kept 365 days and goes on D + 365 days ("a visit made on 1 January 2026 is kept
365 days and goes on 1 January 2027"): the change log one day at a time, the visits by the
partition drop and, in the partition that still holds newer rows, by the boundary trim."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from psycopg2 import sql

from orchestration.retention.run import retention_run
from shared.audit.models import ChangeLogEntry
from shared.audit.services import VISIT_TABLE, visit_partitions_ensure
from shared.pg_tools import execute
from shared.privacy.models import DeletionRecord

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc
LAST_OF_DAY = dt.datetime(2026, 1, 1, 23, 59, 59, tzinfo=UTC)
FIRST_OF_NEXT = dt.datetime(2026, 1, 2, 0, 0, 0, tzinfo=UTC)


def entry(at: dt.datetime) -> int:
    return ChangeLogEntry.objects.create(occurred_at=at, actor_kind="operator", actor_id=7, actor_schema="public",
                                         object_schema="public", object_type="clients.contact", object_id="1",
                                         action="update", fields=["email"]).pk


@pytest.mark.parametrize(("as_of", "left"), [
    (dt.date(2026, 12, 31), {"1 Jan", "2 Jan"}),  # the day before: both kept
    (dt.date(2027, 1, 1), {"2 Jan"}),             # on the day: 1 January's entries go, to the last second
    (dt.date(2027, 1, 2), set()),
])
def test_a_change_log_entry_goes_365_days_after_its_day(as_of, left):
    made = {"1 Jan": entry(LAST_OF_DAY), "2 Jan": entry(FIRST_OF_NEXT)}

    retention_run(as_of=as_of, scope="public")

    assert {name for name, pk in made.items() if ChangeLogEntry.objects.filter(pk=pk).exists()} == left
    if "1 Jan" not in left:
        record = DeletionRecord.objects.get(kind="change_log", unit="change_log:2026-01-01")
        assert record.records_deleted >= 1 and record.due_on == dt.date(2027, 1, 1) and record.category == "technical"


def test_the_change_log_run_is_idempotent_and_records_each_day_once():
    entry(LAST_OF_DAY)
    first = retention_run(as_of=dt.date(2027, 1, 1), scope="public")
    entry(LAST_OF_DAY + dt.timedelta(days=1))
    again = retention_run(as_of=dt.date(2027, 1, 2), scope="public")
    rerun = retention_run(as_of=dt.date(2027, 1, 2), scope="public")

    units = list(DeletionRecord.objects.filter(kind="change_log", unit__in=["change_log:2026-01-01",
                                                                            "change_log:2026-01-02"])
                 .values_list("unit", "run_id"))
    assert sorted(units) == [("change_log:2026-01-01", first.pk), ("change_log:2026-01-02", again.pk)]
    assert not DeletionRecord.objects.filter(run=rerun, kind="change_log").exists()


def visit(at: dt.datetime, marker: str) -> None:
    with connection.cursor() as cursor:
        execute(cursor, sql.SQL("INSERT INTO {} (occurred_at, host, path, method, status, ip, user_id, schema_name) "
                                "VALUES (%s, 'oakfield.localhost', %s, 'GET', 200, '10.0.0.1', 5, 'public')")
                .format(sql.Identifier("public", VISIT_TABLE)), [at, marker])


def visits_left(markers) -> set[str]:
    with connection.cursor() as cursor:
        execute(cursor, sql.SQL("SELECT path FROM {} WHERE path = ANY(%s)").format(sql.Identifier("public", VISIT_TABLE)),
                [list(markers)])
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize(("as_of", "left"), [
    (dt.date(2026, 12, 31), {"/1-jan", "/2-jan"}),
    (dt.date(2027, 1, 1), {"/2-jan"}),  # the boundary trim: January's partition still holds newer rows
    (dt.date(2027, 1, 2), set()),
])
def test_the_boundary_trim_deletes_visits_on_their_365th_day(as_of, left):
    visit_partitions_ensure(months_ahead=0, months=[dt.date(2026, 1, 1)])
    visit(LAST_OF_DAY, "/1-jan")
    visit(FIRST_OF_NEXT, "/2-jan")
    visit(dt.datetime(2026, 1, 20, 12, tzinfo=UTC), "/20-jan")

    retention_run(as_of=as_of, scope="public")

    assert visits_left({"/1-jan", "/2-jan", "/20-jan"}) == left | {"/20-jan"}
    trimmed = DeletionRecord.objects.filter(kind="visit_rows", unit=f"visits-before:{as_of - dt.timedelta(days=364)}")
    assert trimmed.exists() == (as_of > dt.date(2026, 12, 31))


def test_a_months_partition_is_dropped_365_days_after_its_last_day():
    visit_partitions_ensure(months_ahead=0, months=[dt.date(2026, 1, 1)])
    visit(dt.datetime(2026, 1, 31, 23, 59, tzinfo=UTC), "/31-jan")

    retention_run(as_of=dt.date(2027, 1, 30), scope="public")
    assert visits_left({"/31-jan"}) == {"/31-jan"}
    retention_run(as_of=dt.date(2027, 1, 31), scope="public")

    assert visits_left({"/31-jan"}) == set()
    assert DeletionRecord.objects.filter(kind="visit_partition", unit=f"{VISIT_TABLE}_y2026m01").exists()


@pytest.mark.parametrize(("as_of", "kept"), [(dt.date(2026, 12, 31), True), (dt.date(2027, 1, 1), False)])
def test_a_support_access_log_entry_goes_365_days_after_its_day(oakfield, as_of, kept):
    from shared.operators.models import Operator
    from shared.support.models import SupportAccessLog

    attempt = SupportAccessLog.objects.create(operator=Operator.objects.first(), school=oakfield.school,
                                              path="/console/support/pupils/4/", occurred_at=LAST_OF_DAY,
                                              outcome="refused", refusal_reason="no_grant")

    retention_run(as_of=as_of, scope="public")

    assert SupportAccessLog.objects.filter(pk=attempt.pk).exists() == kept
    assert DeletionRecord.objects.filter(kind="support_log", unit="support_log:2026-01-01").exists() != kept
