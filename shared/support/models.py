from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q

from shared import clock
from shared.operators.models import Operator
from shared.schools.models import School

MIN_HOURS, MAX_HOURS = 1, 72


class SupportAccessRequest(models.Model):
    """An operator's request to open one school's data for a support ticket, and the school's
    answer. Approval makes it a grant from ``starts_at`` to ``expires_at``; an approved grant past
    its expiry is *expired* (computed, never stored, so no job has to run for it to end).

    The school's decision is taken in its own schema: ``decided_by_user_id`` is a user id there,
    kept as a plain value (a public row never points into a school schema), with the name as it
    was at the time beside it."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for the school"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"
        REVOKED = "revoked", "Revoked"

    EXPIRED = "expired"  # shown, never stored: approved and past expires_at

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="support_requests")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="support_requests")
    ticket_reference = models.CharField(max_length=60)
    reason = models.CharField(max_length=1000, help_text="What the school reported and why its data must be seen.")
    duration_hours = models.PositiveSmallIntegerField(help_text=f"{MIN_HOURS} to {MAX_HOURS} hours from approval.")
    write_allowed = models.BooleanField(default=False, help_text="Off: read-only.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    requested_at = models.DateTimeField(default=clock.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by_user_id = models.BigIntegerField(null=True, blank=True, help_text="A user id in the school's schema.")
    decided_by_name = models.CharField(max_length=200, blank=True)
    refusal_reason = models.CharField(max_length=500, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_user_id = models.BigIntegerField(null=True, blank=True, help_text="A user id in the school's schema.")
    revoked_by_name = models.CharField(max_length=200, blank=True)
    # When the school's admins were told the grant had expired (``orchestration.notify``): once.
    expiry_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["operator", "school", "state"])]
        constraints = [
            models.CheckConstraint(condition=Q(duration_hours__gte=MIN_HOURS, duration_hours__lte=MAX_HOURS),
                                   name="support_request_duration_bounded"),
            models.CheckConstraint(
                condition=~Q(state__in=["approved", "revoked"]) | Q(starts_at__isnull=False, expires_at__isnull=False),
                name="support_request_grant_has_window"),
        ]

    def __str__(self) -> str:
        return f"Support access #{self.pk} to {self.school_id} ({self.ticket_reference})"

    def current_state(self, at: dt.datetime | None = None) -> str:
        """The stored state, or ``expired`` for an approved grant whose time is up."""
        if self.state == self.State.APPROVED and self.expires_at <= (at or clock.now()):
            return self.EXPIRED
        return self.state

    def current_state_label(self) -> str:
        state = self.current_state()
        return "Expired" if state == self.EXPIRED else self.State(state).label

    def active(self, at: dt.datetime | None = None) -> bool:
        at = at or clock.now()
        return self.state == self.State.APPROVED and self.starts_at <= at < self.expires_at


class SupportAccessLog(models.Model):
    """One attempt to open a school's data from the console, allowed or refused. Ids only: the
    path names pupils by id, never by name, and carries no query string."""

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", "Allowed"
        REFUSED = "refused", "Refused"

    class Refusal(models.TextChoices):
        NO_GRANT = "no_grant", "No request for this school"
        PENDING = "pending", "Request not yet approved"
        REFUSED = "refused", "Request refused by the school"
        REVOKED = "revoked", "Grant revoked by the school"
        EXPIRED = "expired", "Grant expired"
        OTHER_SCHOOL = "other_school", "Grant is for another school"
        READ_ONLY = "read_only", "Grant is read-only"

    grant = models.ForeignKey(SupportAccessRequest, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="log")
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="support_log")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="support_log")
    path = models.CharField(max_length=2000)
    occurred_at = models.DateTimeField(default=clock.now)
    outcome = models.CharField(max_length=7, choices=Outcome.choices)
    refusal_reason = models.CharField(max_length=12, choices=Refusal.choices, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["school", "-occurred_at"])]
        constraints = [models.CheckConstraint(
            condition=Q(outcome="allowed", refusal_reason="") | (Q(outcome="refused") & ~Q(refusal_reason="")),
            name="support_log_refusal_has_reason")]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.path}"
