"""Writes on support access: an operator's request, the school admin's approval, refusal or
revocation, and the one guard every console view that shows a school's data calls first.

An operator requests in the console (``public``); the school's admin decides on the school's own
site, so those services are called from inside the school's schema, check that the request is
that school's, and write the public row (and its change-log entry) from ``public``."""

from __future__ import annotations

import datetime as dt

import structlog
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, schema_context

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.operators.models import Operator
from shared.schools.models import School
from shared.support.models import MAX_HOURS, MIN_HOURS, SupportAccessLog, SupportAccessRequest

log = structlog.get_logger(__name__)
State = SupportAccessRequest.State
Refusal = SupportAccessLog.Refusal


@transaction.atomic
def support_request_create(*, operator: Operator, school: School, ticket_reference: str, reason: str,
                           duration_hours: int, write_allowed: bool = False) -> SupportAccessRequest:
    """An operator asks ``school`` for access to its data for ``duration_hours`` from approval.
    Nothing is opened until the school's admin approves it on the school's site."""
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError("support requests are made from the console, in the public schema")
    errors = {}
    if not ticket_reference.strip():
        errors["ticket_reference"] = "Give the support ticket this access is for."
    if not reason.strip():
        errors["reason"] = "Tell the school why its data must be seen."
    if not MIN_HOURS <= duration_hours <= MAX_HOURS:
        errors["duration_hours"] = f"Ask for {MIN_HOURS} to {MAX_HOURS} hours."
    if errors:
        raise ValidationError(errors)
    if school.status != School.Status.ACTIVE or school.schema_dropped_at is not None:
        raise ValidationError("This school's contract is cancelled: its site is closed, so no one there can "
                              "approve access.")
    now = clock.now()
    open_requests = SupportAccessRequest.objects.filter(operator=operator, school=school)
    if open_requests.filter(state=State.PENDING).exists():
        raise ValidationError("You already have a request waiting for this school's decision.")
    if open_requests.filter(state=State.APPROVED, starts_at__lte=now, expires_at__gt=now).exists():
        raise ValidationError("You already have access to this school's data.")
    access_request = SupportAccessRequest(operator=operator, school=school, ticket_reference=ticket_reference.strip(),
                                          reason=reason.strip(), duration_hours=duration_hours,
                                          write_allowed=write_allowed, requested_at=now)
    access_request.full_clean()
    access_request.save()
    change_log_record(actor=Actor.operator(operator.user), instance=access_request, action=Action.CREATE,
                      fields=["operator", "school", "ticket_reference", "reason", "duration_hours", "write_allowed",
                              "state", "requested_at"])
    log.info("support.requested", request_id=access_request.pk, operator_id=operator.pk, school_id=school.pk)
    return access_request


def _decide(*, user: AbstractBaseUser, access_request: SupportAccessRequest, allowed_from: set[str], apply, fields: list[str],
            event: str) -> SupportAccessRequest:
    """The shared shape of the school admin's decisions: the user must be an admin of the school the
    request is for (the current schema), the request in a state the decision applies to; the row is
    locked, changed and change-logged from ``public``."""
    if getattr(user, "role", None) != get_user_model().Role.SCHOOL_ADMIN:
        raise PermissionDenied("Only the school's admin decides on support access.")
    school_schema = connection.schema_name
    if access_request.school.schema_name != school_schema:
        raise PermissionDenied("This request is for another school.")
    actor = Actor.school_user(user, school_schema)
    with schema_context(get_public_schema_name()):
        locked = SupportAccessRequest.objects.select_for_update().get(pk=access_request.pk)
        now = clock.now()
        if locked.current_state(now) not in allowed_from:
            raise ValidationError(f"This request is {locked.current_state_label().lower()}: nothing was changed.")
        apply(locked, now)
        locked.save(update_fields=fields)
        change_log_record(actor=actor, instance=locked, action=Action.UPDATE, fields=fields)
    log.info(event, request_id=locked.pk, school_id=locked.school_id)
    return locked


@transaction.atomic
def support_request_approve(*, user: AbstractBaseUser, access_request: SupportAccessRequest) -> SupportAccessRequest:
    """The school's admin approves a pending request: access runs from now for the hours asked,
    read-only unless the request asked for writing."""

    def approve(row: SupportAccessRequest, now: dt.datetime) -> None:
        row.state, row.decided_at = State.APPROVED, now
        row.decided_by_user_id, row.decided_by_name = user.pk, user.get_full_name()
        row.starts_at, row.expires_at = now, now + dt.timedelta(hours=row.duration_hours)

    return _decide(user=user, access_request=access_request, allowed_from={State.PENDING}, apply=approve,
                   fields=["state", "decided_at", "decided_by_user_id", "decided_by_name", "starts_at", "expires_at"],
                   event="support.approved")


@transaction.atomic
def support_request_refuse(*, user: AbstractBaseUser, access_request: SupportAccessRequest, reason: str = "") -> SupportAccessRequest:
    """The school's admin refuses a pending request, optionally saying why (the operator sees it)."""
    if len(reason.strip()) > SupportAccessRequest._meta.get_field("refusal_reason").max_length:
        raise ValidationError({"refusal_reason": "Keep the reason under 500 characters."})

    def refuse(row: SupportAccessRequest, now: dt.datetime) -> None:
        row.state, row.decided_at = State.REFUSED, now
        row.decided_by_user_id, row.decided_by_name = user.pk, user.get_full_name()
        row.refusal_reason = reason.strip()

    return _decide(user=user, access_request=access_request, allowed_from={State.PENDING}, apply=refuse,
                   fields=["state", "decided_at", "decided_by_user_id", "decided_by_name", "refusal_reason"],
                   event="support.refused")


@transaction.atomic
def support_grant_revoke(*, user: AbstractBaseUser, access_request: SupportAccessRequest) -> SupportAccessRequest:
    """The school's admin ends an approved grant before its expiry: the next page the operator
    opens is refused."""

    def revoke(row: SupportAccessRequest, now: dt.datetime) -> None:
        row.state, row.revoked_at = State.REVOKED, now
        row.revoked_by_user_id, row.revoked_by_name = user.pk, user.get_full_name()

    return _decide(user=user, access_request=access_request, allowed_from={State.APPROVED}, apply=revoke,
                   fields=["state", "revoked_at", "revoked_by_user_id", "revoked_by_name"], event="support.revoked")


_REFUSAL_FOR_STATE = {State.PENDING: Refusal.PENDING, State.REFUSED: Refusal.REFUSED, State.REVOKED: Refusal.REVOKED,
                      SupportAccessRequest.EXPIRED: Refusal.EXPIRED}
_REFUSAL_MESSAGES = {
    Refusal.NO_GRANT: "you have not asked {school} for access. Request it from the school's page.",
    Refusal.PENDING: "your request is waiting for {school}'s decision.",
    Refusal.REFUSED: "{school} refused your request.",
    Refusal.REVOKED: "{school} revoked your access.",
    Refusal.EXPIRED: "your access to {school}'s data has expired. Ask again if you still need it.",
    Refusal.OTHER_SCHOOL: "your access is for another school, not {school}.",
    Refusal.READ_ONLY: "your access to {school}'s data is read-only.",
}


def support_grant_require(*, operator: Operator, school: School, path: str, write: bool = False) -> SupportAccessRequest:
    """The guard in front of every console view that shows (or changes) a school's data. Returns
    the operator's approved, unexpired, unrevoked grant for exactly this school; otherwise raises
    PermissionDenied saying why. Either way the attempt is logged first, in a transaction of its
    own that commits before this returns, so a refusal leaves its record behind.

    ``path`` is logged as given: pass ``request.path`` (no query string, which could carry a
    search for a name). Must not be called inside a transaction (``durable`` enforces it)."""
    now = clock.now()
    requests = SupportAccessRequest.objects.filter(operator=operator, school=school)
    grant = requests.filter(state=State.APPROVED, starts_at__lte=now, expires_at__gt=now).order_by("-expires_at").first()
    refusal = ""
    if grant is not None:
        if write and not grant.write_allowed:
            refusal = Refusal.READ_ONLY
    else:
        grant = requests.order_by("-requested_at", "-id").first()
        if grant is not None:
            refusal = _REFUSAL_FOR_STATE[grant.current_state(now)]
        elif SupportAccessRequest.objects.filter(operator=operator, state=State.APPROVED, expires_at__gt=now).exists():
            # Another school's grant is never attached to this school's log: the school would see it.
            refusal = Refusal.OTHER_SCHOOL
        else:
            refusal = Refusal.NO_GRANT
    with transaction.atomic(durable=True):
        entry = SupportAccessLog.objects.create(
            grant=grant, operator=operator, school=school, path=path[:2000], occurred_at=now,
            outcome=SupportAccessLog.Outcome.REFUSED if refusal else SupportAccessLog.Outcome.ALLOWED,
            refusal_reason=refusal)
    if refusal:
        log.warning("support.access_refused", log_id=entry.pk, operator_id=operator.pk, school_id=school.pk,
                    reason=refusal)
        raise PermissionDenied("Not allowed: " + _REFUSAL_MESSAGES[refusal].format(school=school.name))
    log.info("support.access_allowed", log_id=entry.pk, operator_id=operator.pk, school_id=school.pk, grant_id=grant.pk)
    return grant
