"""The scheduled jobs that enter every school: retention (one job for ``public`` and one per school,
each under its own lock, so that no two runs of the same scope overlap and one school's failure stops
no other), the nightly Xporter sync of every active school, the working-day flag of overdue data
subjects' requests, and keeping the spare-schema pool full."""

from __future__ import annotations

import dramatiq
import structlog
from django_tenants.utils import schema_context

from orchestration import pool, requests
from orchestration.retention.run import RetentionBusy, retention_run
from shared import clock
from shared.scheduling import periodic
from shared.schools.selectors import active_school_schemas, live_school_ids, live_school_schemas

log = structlog.get_logger(__name__)


@dramatiq.actor(max_retries=3, time_limit=6 * 3600 * 1000)
def retention_public(as_of: str) -> None:
    try:
        retention_run(as_of=clock.date_from_iso(as_of), scope="public")
    except RetentionBusy:
        pass  # the run in progress does this work


@dramatiq.actor(max_retries=3, time_limit=3600 * 1000)
def retention_school(school_id: int, as_of: str) -> None:
    try:
        retention_run(as_of=clock.date_from_iso(as_of), school_id=school_id, scope="school")
    except RetentionBusy:
        pass


@periodic("0 2 * * *")
@dramatiq.actor(max_retries=0)
def retention_daily() -> None:
    """Send today's retention jobs (02:00 UK time). The date travels in the message, so a job
    retried after midnight still works on the day it was planned for."""
    today = clock.today().isoformat()
    retention_public.send(today)
    for school_id in live_school_ids():
        retention_school.send(school_id, today)


@periodic("0 8 * * Mon-Fri")
@dramatiq.actor(max_retries=0)
def subject_requests_flag() -> None:
    """Flag overdue and near-due data subjects' requests (working days, 08:00): the vendor's, and
    each open school's own (which the school's dashboard also shows)."""
    requests.requests_flag()


@periodic("30 1 * * *")
@dramatiq.actor(max_retries=0)
def xporter_sync_all() -> None:
    """Send each active school's Xporter sync (01:30), from inside its schema: the broker middleware
    carries the schema in the message."""
    from tenants.xporter.tasks import xporter_sync_school

    for schema_name in active_school_schemas():
        with schema_context(schema_name):
            xporter_sync_school.send()


@periodic("*/5 * * * *")
@dramatiq.actor(max_retries=3, time_limit=30 * 60 * 1000)
def pool_top_up() -> None:
    """Keep the spare-schema pool full and current. Idempotent; also sent after each sign-up."""
    pool.pool_top_up()


@periodic("15 0 * * *")
@dramatiq.actor(max_retries=3)
def pupils_leavers_daily() -> None:
    """Mark each school's pupils whose leaving date passed as leavers (00:15 UK time). One
    school that fails is set aside; the others go on."""
    from shared.deadletter import each_surviving
    from tenants.pupils.services import pupils_leavers_mark

    today = clock.today()

    def mark(schema_name: str) -> None:
        with schema_context(schema_name):
            pupils_leavers_mark(today=today)

    each_surviving(active_school_schemas(), mark, job="pupils_leavers_daily", item_id=str)


@periodic("45 2 * * *")
@dramatiq.actor(max_retries=3)
def expired_sign_ins_and_exports_daily() -> None:
    """Delete expired sessions (the console's and each school's) and the files of one-time access
    exports past their expiry (02:45 UK time). One school that fails is set aside; the others go on."""
    from shared.deadletter import each_surviving
    from tenants.rights.services import exports_expire
    from tenants.users.services import sessions_expired_purge

    sessions_expired_purge()  # public: the operators' console

    def purge(schema_name: str) -> None:
        with schema_context(schema_name):
            sessions_expired_purge()
            exports_expire()

    each_surviving(live_school_schemas(), purge, job="expired_sign_ins_and_exports_daily", item_id=str)
