"""Data subjects' requests across the line: the vendor hands a request about a school's data over to
that school, and the working-day flag of overdue requests reads the vendor's and every school's."""

from __future__ import annotations

import datetime as dt

import structlog
from django.db import transaction
from django_tenants.utils import schema_context

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


def requests_flag() -> None:
    """Log overdue and near-due requests: the vendor's, then each open school's. One school whose
    requests cannot be read is set aside (``shared.deadletter``); the others are still flagged."""
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

    each_surviving(open_schools(), flag, job="subject_requests_flag", item_id=lambda school: school.pk,
                   on_done=automation.school_done("subject_requests_flag"))
