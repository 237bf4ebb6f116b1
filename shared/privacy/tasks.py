"""The daily retention run: one job for the public schema and one per school, each under its own
lock, so that no two runs of the same scope overlap and one school's failure stops no other."""

from __future__ import annotations

import dramatiq

from ops.scheduling import periodic
from shared import clock
from shared.privacy.executor import RetentionBusy, retention_run


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
    from shared.schools.models import School

    today = clock.today().isoformat()
    retention_public.send(today)
    for school_id in School.objects.filter(schema_dropped_at__isnull=True).values_list("pk", flat=True):
        retention_school.send(school_id, today)


@periodic("0 8 * * Mon-Fri")
@dramatiq.actor(max_retries=0)
def subject_requests_flag() -> None:
    """Flag overdue and near-due data subjects' requests (working days, 08:00): the vendor's, and
    each open school's own (which the school's dashboard also shows)."""
    import structlog
    from django_tenants.utils import schema_context

    from shared.deadletter import each_surviving
    from shared.privacy.requests import requests_due
    from shared.schools.models import School
    from tenants.rights.models import SchoolRequest

    log = structlog.get_logger(__name__)
    overdue, near = requests_due()
    for request, deadline in overdue:
        log.warning("subject_request.overdue", request_id=request.pk, deadline=deadline.isoformat())
    for request, deadline in near:
        log.info("subject_request.near_due", request_id=request.pk, deadline=deadline.isoformat())

    def flag(school) -> None:
        with schema_context(school.schema_name):
            overdue, near = requests_due(requests=SchoolRequest.objects.all())
        for request, deadline in overdue:
            log.warning("school_request.overdue", school_id=school.pk, request_id=request.pk, deadline=deadline.isoformat())
        for request, deadline in near:
            log.info("school_request.near_due", school_id=school.pk, request_id=request.pk, deadline=deadline.isoformat())

    # One school whose requests cannot be read is set aside; the others are still flagged.
    each_surviving(School.objects.filter(schema_dropped_at=None, status=School.Status.ACTIVE).order_by("pk"), flag,
                   job="subject_requests_flag", item_id=lambda school: school.pk)
