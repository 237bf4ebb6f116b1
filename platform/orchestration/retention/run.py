"""The retention run: plan what is due with the pure planner (``shared.privacy.retention.rules``)
over the collected units, and delete it, one unit per transaction, each with its deletion record;
and the retention calendar the console and each school's site show, read from the same units.

Safe to kill at any moment and to run again: a unit is deleted and recorded in one transaction, and
the deletion record's uniqueness on (kind, unit) means a rerun skips what is done and deletes
nothing twice. Runs never overlap (a PostgreSQL advisory lock).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from django.db import connection, transaction
from django.db.models import F
from psycopg2 import sql

from orchestration.retention.collect import (
    holds_and_shortenings,
    public_units_collect,
    school_units_collect,
    units_collect,
)
from orchestration.retention.delete import DELETERS
from shared import clock, locks
from shared.audit.services import VISIT_TABLE
from shared.locks import advisory_lock
from shared.pg_tools import execute
from shared.privacy.models import DeletionRecord, RetentionRun
from shared.privacy.retention.registry import Category
from shared.privacy.retention.rules import POLICY_VERSION, Due, Unplannable, plan, unplannable, upcoming
from shared.schools.models import School

log = structlog.get_logger(__name__)


class RetentionBusy(Exception):
    """Another retention run holds the lock."""


def retention_plan(*, as_of: dt.date, school_id: int | None = None, scope: str = "all") -> list[Due]:
    """What is due. ``scope``: "public" (the vendor's units), "school" (inside one school's
    schema; needs ``school_id``) or "all"."""
    holds, shortenings = holds_and_shortenings()
    return plan(units_collect(school_id=school_id, scope=scope), as_of=as_of, holds=holds, shortenings=shortenings)


def retention_unplannable(*, school_id: int | None = None, scope: str = "all") -> list[Unplannable]:
    """The units in ``scope`` that cannot be planned (their dates are out of range), and why."""
    _, shortenings = holds_and_shortenings()
    return unplannable(units_collect(school_id=school_id, scope=scope), shortenings)


@dataclass(frozen=True)
class RetentionCalendar:
    due: list[Due]  # what falls due within the window, soonest first
    unplannable: list[Unplannable]  # units whose dates are out of range: kept until corrected


def retention_calendar(*, as_of: dt.date, days: int, school: School | None = None) -> RetentionCalendar:
    """What falls due in the ``days`` from ``as_of`` and what cannot be planned: for the console,
    the vendor's units and those inside every school; for one school's site (``school``), the
    units in its own schema (its pupils who have left)."""
    holds, shortenings = holds_and_shortenings()
    if school is not None:
        records = school_units_collect(school)
    else:
        records = public_units_collect() + [unit for each in School.objects.filter(schema_dropped_at__isnull=True)
                                            for unit in school_units_collect(each)]
    return RetentionCalendar(due=upcoming(records, as_of=as_of, days=days, holds=holds, shortenings=shortenings),
                             unplannable=unplannable(records, shortenings))


def _trim_boundary_visits(as_of: dt.date, run: RetentionRun) -> int:
    """Rows past 365 days in the one partition that still holds newer rows too. A visit made on
    (UTC) day D is kept 365 days and goes on D + 365 days: on ``as_of`` every row before the UTC
    midnight that ends day ``as_of`` - 365 goes."""
    cutoff = dt.datetime.combine(as_of - dt.timedelta(days=364), dt.time(), dt.timezone.utc)
    with transaction.atomic(), connection.cursor() as cursor:
        execute(cursor, sql.SQL("DELETE FROM {} WHERE occurred_at < %s").format(sql.Identifier("public", VISIT_TABLE)),
                [cutoff])
        trimmed = cursor.rowcount
        if trimmed:
            # A second run on the same day (rows loaded late) adds to the day's record.
            record, created = DeletionRecord.objects.get_or_create(
                kind="visit_rows", unit=f"visits-before:{cutoff.date().isoformat()}",
                defaults={"category": Category.TECHNICAL, "records_deleted": trimmed,
                          "rule": "365 days (IP addresses and user ids)", "policy_version": POLICY_VERSION,
                          "due_on": as_of, "run": run})
            if not created:
                DeletionRecord.objects.filter(pk=record.pk).update(records_deleted=F("records_deleted") + trimmed)
    return trimmed


def retention_run(*, as_of: dt.date, school_id: int | None = None, scope: str = "all",
                  progress: Callable[[int, int], None] | None = None,
                  after_each: Callable[[Due], None] | None = None) -> RetentionRun:
    """Delete everything due on ``as_of`` in ``scope`` (see ``retention_plan``). Returns the run;
    its deletion records say what went. Two runs of the same scope never overlap."""
    connection.set_schema_to_public()
    with advisory_lock(locks.RETENTION_RUN, (school_id or 0) if scope == "school" else -1) as locked:
        if not locked:
            raise RetentionBusy("another retention run of this scope is in progress")
        try:
            return _retention_run(as_of=as_of, school_id=school_id, scope=scope, progress=progress,
                                  after_each=after_each)
        finally:
            connection.set_schema_to_public()


def _retention_run(*, as_of: dt.date, school_id: int | None, scope: str, progress, after_each) -> RetentionRun:
    run = RetentionRun.objects.create(as_of=as_of)
    due = retention_plan(as_of=as_of, school_id=school_id, scope=scope)
    # Units a crashed earlier run already deleted (only those due now are looked up).
    done = set(DeletionRecord.objects.filter(unit__in={d.record.key for d in due}).values_list("kind", "unit"))
    for index, item in enumerate(due, start=1):
        key = (item.record.kind, item.record.key)
        if key not in done:
            with transaction.atomic():
                count = DELETERS[item.record.kind](item.record.key, as_of)
                count, detail = count if isinstance(count, tuple) else (count, {})
                DeletionRecord.objects.create(
                    kind=item.record.kind, unit=item.record.key, school_id=item.record.client_id,
                    category=item.record.category, records_deleted=count, rule=item.rule,
                    policy_version=POLICY_VERSION, due_on=item.due_on, run=run, **detail)
            run.units_deleted += 1
            log.info("retention.deleted", kind=item.record.kind, unit=item.record.key, records=count)
        if after_each:
            after_each(item)
        if progress:
            progress(index, len(due))
    if school_id is None and scope in ("public", "all"):
        _trim_boundary_visits(as_of, run)
    run.finished_at = clock.now()
    run.save(update_fields=["finished_at", "units_deleted"])
    return run
