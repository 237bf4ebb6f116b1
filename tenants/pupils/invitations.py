"""Bulk invitation of parents and carers: every parent or carer with parental responsibility for a
pupil on roll, from the imported contacts, gets an account and an invitation by mail.

A school admin first sees the preview (``parent_invitation_preview``): who gets one, who has no email
address, who already has an account (or shares an address with one, or with another parent), and
who is left out because their processing is restricted or objected to (the notice: no automated
process touches such a record). "Send" (``tenants.pupils.tasks.parent_invitations_start``) only records that a run is
queued and enqueues ONE background job on commit (``tenants.pupils.tasks.parents_invite``), so the
admin's request returns at once whatever the number of parents; the job works the preview out again
when it runs (so a retry skips everyone it already invited: each invitation is its own transaction)
and reports its progress in Redis, which the page shows. One run at a time per school."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from shared import clock
from shared.redis_client import key, redis_client
from tenants.pupils.models import ParentCarer
from tenants.users.mail import invitation_send
from tenants.users.models import User
from tenants.users.services import user_invite

# A run's progress is kept this long after it was last updated (the page shows the latest run).
RUN_TTL_SECONDS = 14 * 24 * 3600
PROGRESS_EVERY = 25
STALE_AFTER = dt.timedelta(hours=1)
RUN_UNDER_WAY = "Invitations are already being sent; wait for that run to finish."


@dataclass
class ParentInvitationPreview:
    invite: list[ParentCarer] = field(default_factory=list)
    no_email: list[ParentCarer] = field(default_factory=list)
    has_account: list[ParentCarer] = field(default_factory=list)
    shared_address: list[ParentCarer] = field(default_factory=list)
    restricted: list[ParentCarer] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in
                ("invite", "no_email", "has_account", "shared_address", "restricted")}

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def parent_invitation_preview() -> ParentInvitationPreview:
    """Every parent or carer with parental responsibility for a pupil on roll, in one of five lists:
    to invite; no email address; already has an account (their record is linked to one, or an account
    of this school has their address); shares an address with another parent listed to invite (the
    first by name gets the invitation: an address is one account); processing restricted or objected."""
    preview = ParentInvitationPreview()
    parents = (ParentCarer.objects
               .filter(child_links__parental_responsibility=True, child_links__pupil__on_roll=True)
               .distinct().only("id", "title", "forename", "surname", "email", "user_id",
                                "processing_restricted", "processing_objected")
               .order_by("surname", "forename", "id"))
    accounts = {email.lower() for email in User.objects.values_list("email", flat=True)}
    taken: set[str] = set()
    for parent in parents:
        address = parent.email.strip().lower()
        if parent.processing_restricted or parent.processing_objected:
            preview.restricted.append(parent)
        elif parent.user_id is not None or (address and address in accounts):
            preview.has_account.append(parent)
        elif not address:
            preview.no_email.append(parent)
        elif address in taken:
            preview.shared_address.append(parent)
        else:
            taken.add(address)
            preview.invite.append(parent)
    return preview


def _run_key() -> str:
    return key("parent-invitations", connection.schema_name)


def parent_invitations_run() -> dict | None:
    """The school's latest bulk-invitation run: ``id``, ``status`` (queued, running, done, failed),
    ``total``, ``sent``, ``skipped``, ``queued_at``, ``finished_at``; None if none is known."""
    raw = redis_client().get(_run_key())
    return json.loads(raw) if raw else None


def run_save(run: dict) -> None:
    run["updated_at"] = clock.now().isoformat()
    redis_client().set(_run_key(), json.dumps(run), ex=RUN_TTL_SECONDS)


def run_under_way(run: dict | None) -> bool:
    """Whether ``run`` is queued or running and was heard of lately (a run whose job was lost, say
    with the broker's data, stops blocking a new one after STALE_AFTER)."""
    if run is None or run["status"] not in ("queued", "running"):
        return False
    updated = dt.datetime.fromisoformat(run.get("updated_at") or run["queued_at"])
    return clock.now() - updated < STALE_AFTER


def parent_invitations_send(*, run_id: str) -> dict | None:
    """The job's work: create each account and mail its invitation, one transaction per parent, then
    record the outcome. Does nothing for a run that is not the school's latest or is already done."""
    run = parent_invitations_run()
    if run is None or run["id"] != run_id or run["status"] == "done":
        return None
    admin = User.objects.filter(pk=run["admin_id"], is_active=True, role=User.Role.SCHOOL_ADMIN).first()
    if admin is None:
        run.update(status="failed", finished_at=clock.now().isoformat())
        run_save(run)
        return run
    preview = parent_invitation_preview()
    run.update(status="running", total=run["sent"] + len(preview.invite))
    run_save(run)
    for number, parent in enumerate(preview.invite, start=1):
        try:
            with transaction.atomic():
                user = user_invite(inviter=admin, email=parent.email, full_name=f"{parent.forename} {parent.surname}",
                                   role=User.Role.PARENT, parent_carer=parent)
                invitation_send(user=user)
        except (ValidationError, ValueError):
            # changed since the preview (an address taken meanwhile), or an address mail refuses:
            # that parent is skipped (nothing of theirs written), the others still get theirs
            run["skipped"] += 1
        else:
            run["sent"] += 1
        if number % PROGRESS_EVERY == 0:
            run_save(run)
    run.update(status="done", finished_at=clock.now().isoformat())
    run_save(run)
    return run
