"""The scheduled jobs that enter every school: retention (one job for ``public`` and one per school,
each under its own lock, so that no two runs of the same scope overlap and one school's failure stops
no other), the nightly Xporter sync of every active school, the working-day flag of overdue data
subjects' requests (and its daily digest by mail), telling school admins of expired support grants and of
new Terms of Use, telling client contacts of a new privacy notice, and keeping the spare-schema pool full."""

from __future__ import annotations

import dramatiq
import structlog
from django_tenants.utils import schema_context

from orchestration import notify, pool, requests
from orchestration.retention.run import RetentionBusy, retention_run
from shared import automation, clock
from shared.automation import DataCategory as D
from shared.automation import Purpose, automated
from shared.scheduling import periodic
from shared.schools.selectors import active_school_schemas, live_school_ids, live_school_schemas

log = structlog.get_logger(__name__)


@dramatiq.actor(max_retries=3, time_limit=6 * 3600 * 1000)
@automated(title="Deleting the records whose retention period has ended (ours, and a cancelled school's files "
                 "and database)",
           reads_school_data=True, purpose=Purpose.MANAGEMENT,
           why="Keeps the retention periods of our privacy notice: a school's configuration files are deleted "
               "3 months, and its whole database 6 months, after its contract is cancelled.",
           reads=(D.CONFIGURATION_FILES, D.CLIENT_DATABASE),
           reads_detail="Only a cancelled school's: its uploaded files and settings, then its whole database. "
                        "A current school's data is not read.",
           for_all_schools=True, sent_by="retention_daily")
def retention_public(as_of: str) -> None:
    try:
        retention_run(as_of=clock.date_from_iso(as_of), scope="public")
    except RetentionBusy:
        automation.outcome_set(automation.Outcome.SKIPPED)  # the run in progress does this work


@dramatiq.actor(max_retries=3, time_limit=3600 * 1000)
@automated(title="Deleting the records of pupils who have left, after your grace period",
           reads_school_data=True, purpose=Purpose.MANAGEMENT,
           why="Applies the retention period you set on the Retention page.",
           reads=(D.PUPIL_DATA,),
           reads_detail="Pupils' leaving dates and whether they are on roll, and your grace period; the records of "
                        "pupils whose grace period has ended are deleted. Pupils whose processing is restricted or "
                        "objected to are left as they are.",
           per_school=True, sent_by="retention_daily")
def retention_school(school_id: int, as_of: str) -> None:
    with automation.recording("retention_school", school_id=school_id):
        try:
            retention_run(as_of=clock.date_from_iso(as_of), school_id=school_id, scope="school")
        except RetentionBusy:
            automation.outcome_set(automation.Outcome.SKIPPED)


@periodic("0 2 * * *")
@dramatiq.actor(max_retries=0)
@automated(title="Sending each day's retention jobs", reads_school_data=False,
           reads_detail="The list of schools (not their data).")
def retention_daily() -> None:
    """Send today's retention jobs (02:00 UK time). The date travels in the message, so a job
    retried after midnight still works on the day it was planned for."""
    today = clock.today().isoformat()
    retention_public.send(today)
    for school_id in live_school_ids():
        retention_school.send(school_id, today)


@periodic("0 8 * * Mon-Fri")
@dramatiq.actor(max_retries=0)
@automated(title="Flagging data protection requests that are overdue or nearly due, and emailing your admins "
                 "the overdue ones",
           reads_school_data=True, purpose=Purpose.MANAGEMENT,
           why="Warns when a data subject's request to your school (access, correction, erasure...) nears or "
               "passes its one-month deadline: your school's admins get one email a day listing the overdue ones.",
           reads=(D.PUPIL_DATA, D.USER_IDENTITY),
           reads_detail="Your school's data subjects' requests: when each was received, its kind and status; and "
                        "your admins' email addresses. The email names each request by its number and kind, never "
                        "by whom it is about.",
           per_school=True)
def subject_requests_flag() -> None:
    """Flag overdue and near-due data subjects' requests and breach clocks (working days, 08:00): the
    vendor's, and each open school's own (which the school's dashboard also shows); mail the DPOs and
    each school's admins the day's digest, once per day."""
    requests.requests_flag()


@periodic("*/15 * * * *")
@dramatiq.actor(max_retries=3)
@automated(title="Telling your admins when a support access grant has expired",
           reads_school_data=True, purpose=Purpose.MANAGEMENT,
           why="Security: your school's admins are told by email when our support team's access to your data ends.",
           reads=(D.USER_IDENTITY,),
           reads_detail="Your admins' email addresses, and the support access grants you approved (when each "
                        "expires).",
           for_all_schools=True)
def support_grants_expired_notify() -> None:
    """Mail each school's admins, once per grant, that an approved support-access grant has expired
    (every 15 minutes)."""
    notify.support_grants_expired_notify()


@dramatiq.actor(max_retries=3, time_limit=3600 * 1000)
@automated(title="Emailing every client contact that our privacy notice has changed", reads_school_data=False,
           reads_detail="The client contacts' names and email addresses (our records, not the school's data).",
           also="when a new version of the privacy notice is published")
def notice_change_mail(version_id: int | None = None) -> None:
    """Tell every current client contact of a new privacy-notice version (one job per version; the
    current version when none is named)."""
    notify.notice_change_tell(version_id=version_id)


@dramatiq.actor(max_retries=3, time_limit=3600 * 1000)
@automated(title="Emailing your admins that our Terms of Use have changed",
           reads_school_data=True, purpose=Purpose.MANAGEMENT,
           why="Your school's admins are told of new Terms of Use, which they are asked to accept.",
           reads=(D.USER_IDENTITY,), reads_detail="Your admins' email addresses.",
           per_school=True, also="when a new version of the Terms of Use is published")
def terms_change_mail(version_id: int | None = None) -> None:
    """Tell each open school's admins of a new Terms of Use version (one job per version; the current
    version when none is named)."""
    notify.terms_change_tell(version_id=version_id)


@periodic("30 1 * * *")
@dramatiq.actor(max_retries=0)
@automated(title="Sending each school's nightly Xporter import", reads_school_data=False,
           reads_detail="The list of active schools (not their data).")
def xporter_sync_all() -> None:
    """Send each active school's Xporter sync (01:30) for its schema: the message carries the
    schema (the broker middleware keeps a schema given), so this job never enters a school."""
    from tenants.xporter.tasks import xporter_sync_school

    for schema_name in active_school_schemas():
        # "schema": config.broker.SCHEMA_OPTION (config sits above this layer)
        xporter_sync_school.send_with_options(schema=schema_name)


@periodic("*/5 * * * *")
@dramatiq.actor(max_retries=3, time_limit=30 * 60 * 1000)
@automated(title="Keeping spare school databases ready for new schools", reads_school_data=False,
           reads_detail="Spare, empty school databases only (no school's data).")
def pool_top_up() -> None:
    """Keep the spare-schema pool full and current. Idempotent; also sent after each sign-up."""
    pool.pool_top_up()


@periodic("15 0 * * *")
@dramatiq.actor(max_retries=3)
@automated(title="Marking pupils whose leaving date has passed as leavers",
           reads_school_data=True, purpose=Purpose.MANAGEMENT,
           why="Keeps your roll current, and starts each leaver's retention grace period on the day they left.",
           reads=(D.PUPIL_DATA,),
           reads_detail="Pupils' leaving dates and whether they are on roll. Pupils whose processing is restricted "
                        "or objected to are left as they are.",
           per_school=True)
def pupils_leavers_daily() -> None:
    """Mark each school's pupils whose leaving date passed as leavers (00:15 UK time). One
    school that fails is set aside; the others go on."""
    from shared.deadletter import each_surviving
    from tenants.pupils.services import pupils_leavers_mark

    today = clock.today()

    def mark(schema_name: str) -> None:
        with schema_context(schema_name):
            pupils_leavers_mark(today=today)

    each_surviving(active_school_schemas(), mark, job="pupils_leavers_daily", item_id=str,
                   on_done=automation.school_done("pupils_leavers_daily"))


@periodic("45 2 * * *")
@dramatiq.actor(max_retries=3)
@automated(title="Deleting expired sign-ins and expired one-time access exports",
           reads_school_data=True, purpose=Purpose.MANAGEMENT,
           why="Security: a sign-in that has expired cannot be reused, and an access export's file is deleted "
               "once its download link has expired.",
           reads=(D.USER_IDENTITY, D.PUPIL_DATA),
           reads_detail="When your users' sign-in sessions expire, and the expiry of access-request exports "
                        "(their files are deleted, not read).",
           per_school=True)
def expired_sign_ins_and_exports_daily() -> None:
    """Delete expired sessions (the console's and each school's) and the files of one-time access
    exports past their expiry (02:45 UK time). One school that fails is set aside; the others go on."""
    from shared.deadletter import each_surviving
    from shared.privacy.exports.links import vendor_exports_expire
    from tenants.rights.services import exports_expire
    from tenants.users.services import sessions_expired_purge

    sessions_expired_purge()  # public: the operators' console
    vendor_exports_expire()  # public: the vendor's own subject exports

    def purge(schema_name: str) -> None:
        with schema_context(schema_name):
            sessions_expired_purge()
            exports_expire()

    each_surviving(live_school_schemas(), purge, job="expired_sign_ins_and_exports_daily", item_id=str,
                   on_done=automation.school_done("expired_sign_ins_and_exports_daily"))
