"""The vendor's correction and erasure of its own records, with the recipients told: each runs the
tool (``shared.privacy.requests.vendor_tools``) and, in the same transaction, opens a task for every
recipient holding the person's data (``shared.compliance.recipients``), so that the request cannot
be marked answered until each is done or closed with a reason. Here, not in the tools, because the
register of recipients sits above the privacy app (it reads its requests)."""

from __future__ import annotations

from django.db import transaction

from shared.changes import Actor
from shared.compliance.recipients import recipient_tasks_open
from shared.privacy.models import SubjectRequest
from shared.privacy.requests import vendor_tools as tools


@transaction.atomic
def vendor_correct_and_tell(*, actor: Actor, request: SubjectRequest, changes: dict) -> list[str]:
    """Correct the person's fields; a task per recipient for the fields that changed. Returns them."""
    subject = request.subject()
    changed = tools.vendor_subject_correct(actor=actor, request=request, changes=changes)
    if changed:
        recipient_tasks_open(actor=actor, request=request, person=tools.subject_reference(subject), fields=changed)
    return changed


@transaction.atomic
def vendor_erase_and_tell(*, actor: Actor, request: SubjectRequest) -> dict[str, int]:
    """Erase the person's records; a task per recipient that held them. Returns rows per model label."""
    subject = request.subject()
    person = tools.subject_reference(subject) if subject is not None else ""
    counts = tools.vendor_subject_erase(actor=actor, request=request)
    recipient_tasks_open(actor=actor, request=request, person=person)
    return counts
