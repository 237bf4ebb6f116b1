"""Actors of the pupils app: the bulk invitation of parents and carers (``tenants.pupils.invitations``),
and its start, which enqueues it."""

from __future__ import annotations

import uuid

import dramatiq
from django.core.exceptions import ValidationError
from django.db import transaction

from shared import clock
from shared.automation import DataCategory as D
from shared.automation import Purpose, automated
from tenants.pupils import invitations


@dramatiq.actor(max_retries=3, min_backoff=30_000, time_limit=60 * 60 * 1000)
@automated(title="Inviting parents and carers to the site by email",
           reads_school_data=True, purpose=Purpose.MANAGEMENT,
           why="A school admin asked for every parent and carer with parental responsibility to get an account.",
           reads=(D.PUPIL_DATA, D.USER_IDENTITY),
           reads_detail="The imported parents and carers with parental responsibility for a pupil on roll (their "
                        "names and email addresses) and the addresses of your accounts. Parents whose processing "
                        "is restricted or objected to are left out.",
           also="when a school admin sends the parents' invitations")
def parents_invite(run_id: str = "") -> None:
    if run_id:
        invitations.parent_invitations_send(run_id=run_id)


@transaction.atomic
def parent_invitations_start(*, admin) -> dict:
    """Queue the invitation of everyone the preview lists to invite; returns the run. Refused while
    another run of the school's is queued or running, and when there is nobody to invite."""
    if invitations.run_under_way(invitations.parent_invitations_run()):
        raise ValidationError(invitations.RUN_UNDER_WAY)
    total = len(invitations.parent_invitation_preview().invite)
    if total == 0:
        raise ValidationError("Nobody is waiting for an invitation.")
    run = {"id": uuid.uuid4().hex, "status": "queued", "total": total, "sent": 0, "skipped": 0,
           "queued_at": clock.now().isoformat(), "finished_at": None, "admin_id": admin.pk}
    invitations.run_save(run)
    transaction.on_commit(lambda: parents_invite.send(run["id"]))
    return run
