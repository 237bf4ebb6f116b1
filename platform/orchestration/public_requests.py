"""The public request page's confirmed submissions land: a request about the vendor's own records in
the console's Requests; one about a school's data (the vendor only processes it for the school, the
controller) is received by the vendor and handed over to that school at once, with the day it was
submitted as its received date (``shared.privacy.requests.public`` says why), so the school's month
is the person's month."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from orchestration.requests import request_forward_to_school
from shared import clock
from shared.changes import Actor
from shared.privacy.models import SubjectRequest
from shared.privacy.requests.public import Submission
from shared.privacy.requests.services import request_receive
from shared.schools.selectors import open_schools

ALREADY = "This request has been confirmed already: it was received once, and nothing more was recorded."


def public_request_land(*, submission: Submission) -> SubjectRequest:
    """Record a confirmed submission (once: a second confirmation is refused and changes nothing);
    forwarded to its school when it is about a school's data. The address counts as verified today."""
    today = clock.today()
    school = None
    if submission.school_id is not None:
        school = open_schools().filter(pk=submission.school_id).first()
        if school is None:
            raise ValidationError("The school this request is about is no longer served here: please contact the "
                                  "school directly.")
    try:
        with transaction.atomic():
            request = request_receive(actor=Actor.system(), kind=submission.kind, requester_name=submission.name,
                                      requester_email=submission.email, details=submission.details,
                                      received_on=submission.submitted_on, email_verified_on=today,
                                      submission_ref=submission.ref)
            if school is not None:
                request_forward_to_school(actor=Actor.system(), request=request, school=school, today=today)
    except IntegrityError:  # the same link confirmed twice at the same moment
        raise ValidationError(ALREADY) from None
    return request
