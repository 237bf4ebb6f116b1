"""Data subjects' requests across the line: the vendor hands a request about a school's data over to
that school, and the working-day flag of overdue requests reads the vendor's and every school's, and
mails the day's digest."""

from __future__ import annotations

import datetime as dt

import structlog
from django.db import transaction
from django_tenants.utils import get_public_schema_name, schema_context

from orchestration import notify
from shared import automation, clock
from shared.changes import Actor
from shared.deadletter import each_surviving
from shared.privacy.models import SubjectRequest
from shared.privacy.requests.services import request_mark_forwarded, requests_due
from shared.schools.models import School
from shared.schools.selectors import open_schools
from tenants.rights.models import SchoolRequest

log = structlog.get_logger(__name__)


@transaction.atomic
def request_forward_to_school(*, actor: Actor, request: SubjectRequest, school: School,
                              today: dt.date | None = None) -> SubjectRequest:
    """A request about pupil, parent or school-user data is the school's to answer: hand it over."""
    today = today or clock.today()
    request_mark_forwarded(actor=actor, request=request, school=school, today=today)
    with schema_context(school.schema_name):
        # The school's clock runs from the day the vendor received it: the person waits no longer.
        SchoolRequest.objects.create(kind=request.kind, requester_name=request.requester_name,
                                     requester_email=request.requester_email, details=request.details,
                                     received_on=request.received_on, vendor_request_id=request.pk,
                                     email_verified_on=request.email_verified_on,
                                     subject_label="(to be identified by the school)")
    return request


def requests_flag() -> int:
    """Flag overdue and near-due requests and breach clocks: log the vendor's requests, then each open
    school's; then mail the day's digest (``orchestration.notify``): the DPOs the vendor's requests and
    the breaches whose ICO report is near due or overdue, each school's admins their school's overdue
    requests, once per day. One school whose requests cannot be read is set aside
    (``shared.deadletter``); the others are still flagged. Returns the number of messages sent."""
    with schema_context(get_public_schema_name()):
        return _requests_flag()


def _requests_flag() -> int:
    today = clock.today()
    digest = notify.Digest()
    overdue, near = requests_due(today=today)
    for request, deadline in overdue:
        log.warning("subject_request.overdue", request_id=request.pk, deadline=deadline.isoformat())
    for request, deadline in near:
        log.info("subject_request.near_due", request_id=request.pk, deadline=deadline.isoformat())
    digest.dpo += [notify.request_item(r, d, overdue=True) for r, d in overdue]
    digest.dpo += [notify.request_item(r, d, overdue=False) for r, d in near]
    digest.dpo += notify.breach_items()

    def flag(school) -> None:
        with schema_context(school.schema_name):
            overdue, near = requests_due(requests=SchoolRequest.objects.all(), today=today)
        if overdue:
            digest.schools[school.pk] = [notify.request_item(r, d, overdue=True, school=school) for r, d in overdue]
        for request, deadline in overdue:
            log.warning("school_request.overdue", school_id=school.pk, request_id=request.pk, deadline=deadline.isoformat())
        for request, deadline in near:
            log.info("school_request.near_due", school_id=school.pk, request_id=request.pk, deadline=deadline.isoformat())

    each_surviving(open_schools(), flag, job="subject_requests_flag", item_id=lambda school: school.pk,
                   on_done=automation.school_done("subject_requests_flag"))
    return notify.alerts_digest_send(digest=digest, today=today)
