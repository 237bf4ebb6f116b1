"""Telling recipients of a correction or an erasure: the tasks, one per recipient, that a request's
answer opens, and the rule that a request cannot close while one is open.

Which recipients hold a person's data is the register of recipients' (``shared.compliance.recipients``,
which opens the tasks through ``recipient_task_open`` below); this module holds the tasks themselves,
beside the requests they belong to, so that the request services (``_move``) check them without
depending on the register. A request is a vendor ``SubjectRequest`` or a school's ``SchoolRequest``
(then the connection is in that school's schema, as the school's services always are).

- ``recipient_tasks_of(request)``: the request's tasks; ``recipient_tasks_open_of(request)``: the open ones.
- ``recipient_tasks_block_close(request)``: raises ValidationError naming the open tasks (the
  request services call it before a request is completed, refused or handed over).
- ``access_recipient_task(request, task_id)``: one task of that request, or Http404.
- ``recipient_task_done(actor=, task=, told_at=, told_how=, evidence=)`` and
  ``recipient_task_close(actor=, task=, reason=)``: resolve an open task; change-logged by field name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django_tenants.utils import get_public_schema_name, schema_context

from shared import clock
from shared.audit.services import change_log_record as _change_log_record
from shared.changes import Action, Actor
from shared.dates import PAST
from shared.privacy.models import RecipientTask, SubjectRequest
from shared.schools.selectors import school_current

Task = RecipientTask
OPEN = RecipientTask.State.OPEN



def change_log_public(**kwargs):
    """The change log's entry, naming ``public`` as where the record lives also when a school's
    admin writes it from their site (the connection is then in the school's schema)."""
    with schema_context(get_public_schema_name()):
        return _change_log_record(**kwargs)

def _of(request) -> dict:
    """The filter naming ``request``'s tasks: a vendor request by its row, a school's by school and id."""
    if isinstance(request, SubjectRequest):
        return {"subject_request": request}
    return {"school": school_current(), "school_request_id": request.pk}


def recipient_tasks_of(request) -> QuerySet[RecipientTask]:
    return RecipientTask.objects.filter(**_of(request))


def recipient_tasks_open_of(request) -> QuerySet[RecipientTask]:
    return recipient_tasks_of(request).filter(state=OPEN)


def recipient_tasks_block_close(request) -> None:
    """Refuse to close ``request`` while a recipient is still to be told of its correction or erasure."""
    if request.pk is None:
        return
    still_open = list(recipient_tasks_open_of(request))
    if still_open:
        named = "; ".join(f"task #{task.pk}: tell {task.recipient_name}" for task in still_open)
        raise ValidationError(
            f"This request cannot be closed while {len(still_open)} recipient task{'s are' if len(still_open) > 1 else ' is'} "
            f"open ({named}). Mark each done, or close it with a reason.")


def access_recipient_task(request, task_id) -> RecipientTask:
    """One of ``request``'s tasks (an id from a form), or Http404: never another request's or school's."""
    if not str(task_id).isdigit():
        raise Http404("No such task.")
    task = recipient_tasks_of(request).filter(pk=int(task_id)).first()
    if task is None:
        raise Http404("No such task.")
    return task


def recipient_task_open(*, actor: Actor, request, person: str, asked: str, fields: Sequence[str], recipient_id: int,
                        recipient_name: str, recipient_reach: str, held: str) -> tuple[RecipientTask, bool]:
    """One recipient to tell: a new task, or the fields added to the open task for the same request,
    person and recipient (a second correction before they were told). Returns (task, created).
    Called by ``shared.compliance.recipients.recipient_tasks_open`` inside its transaction."""
    if asked not in Task.Asked.values:
        raise ValidationError("A recipient is told of a correction or an erasure.")
    existing = recipient_tasks_open_of(request).filter(person=person, recipient_id=recipient_id, asked=asked).first()
    if existing is not None:
        added = [name for name in fields if name not in existing.fields]
        if added:
            existing.fields = [*existing.fields, *added]
            existing.save(update_fields=["fields"])
            change_log_public(actor=actor, instance=existing, action=Action.UPDATE, fields=["fields"])
        return existing, False
    task = RecipientTask(**_of(request), person=person, asked=asked, fields=list(dict.fromkeys(fields)),
                         recipient_id=recipient_id, recipient_name=recipient_name, recipient_reach=recipient_reach,
                         held=held, opened_at=clock.now())
    task.full_clean()
    task.save()
    change_log_public(actor=actor, instance=task, action=Action.CREATE,
                      fields=["person", "asked", "recipient_id", "recipient_name", "recipient_reach", "held", "opened_at",
                              *(["fields"] if task.fields else []),
                              *(["subject_request"] if task.subject_request_id else ["school", "school_request_id"])])
    return task, True


def _still_open(task: RecipientTask) -> RecipientTask:
    locked = RecipientTask.objects.select_for_update().get(pk=task.pk)
    if locked.state != OPEN:
        raise ValidationError(f"Task #{task.pk} is {locked.get_state_display().lower()} already.")
    return locked


@transaction.atomic
def recipient_task_done(*, actor: Actor, task: RecipientTask, told_at: dt.datetime, told_how: str,
                        evidence: str) -> RecipientTask:
    """The recipient was told: when, how, and where the evidence (the message, their reply) is kept."""
    errors = {}
    if told_how not in Task.Method.values:
        errors["told_how"] = "Say how they were told."
    if not (evidence or "").strip():
        errors["evidence"] = "Say where the message (and any reply) is kept."
    if told_at is None:
        errors["told_at"] = "Say when they were told."
    if errors:
        raise ValidationError(errors)
    if told_at > clock.now():
        raise ValidationError({"told_at": "They cannot have been told in the future."})
    PAST.check(told_at, field="told_at")
    if told_at < task.opened_at.replace(second=0, microsecond=0):
        raise ValidationError({"told_at": "They cannot have been told of it before the task opened."})
    locked = _still_open(task)
    locked.state, locked.told_at, locked.told_how, locked.evidence = Task.State.DONE, told_at, told_how, evidence.strip()
    locked.resolved_at, locked.resolved_by_id = clock.now(), actor.user_id
    fields = ["state", "told_at", "told_how", "evidence", "resolved_at", "resolved_by_id"]
    locked.save(update_fields=fields)
    change_log_public(actor=actor, instance=locked, action=Action.UPDATE, fields=fields)
    return locked


@transaction.atomic
def recipient_task_close(*, actor: Actor, task: RecipientTask, reason: str) -> RecipientTask:
    """The recipient will not be told, and why (they no longer hold it, it proved impossible or
    would take disproportionate effort): the reason is kept for the record."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "Give the reason the recipient is not told."})
    locked = _still_open(task)
    locked.state, locked.closed_reason = Task.State.CLOSED, reason.strip()
    locked.resolved_at, locked.resolved_by_id = clock.now(), actor.user_id
    fields = ["state", "closed_reason", "resolved_at", "resolved_by_id"]
    locked.save(update_fields=fields)
    change_log_public(actor=actor, instance=locked, action=Action.UPDATE, fields=fields)
    return locked
