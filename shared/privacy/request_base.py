"""What every data subject's request has, wherever it is kept: an abstract model (no table of its
own), so that the school's requests (``tenants.rights``) share it without depending on the vendor's
tables."""

from __future__ import annotations

from django.db import models

from shared import clock


class SubjectRequestBase(models.Model):
    """A request from a data subject under one of the seven rights, answered within the ICO's time
    limit: its kind, its state and its clock. The vendor's requests (``SubjectRequest``, in public)
    and each school's (``tenants.rights.SchoolRequest``, in its schema) share it, and the state
    machine in ``shared.privacy.requests.services`` serves both."""

    class Kind(models.TextChoices):
        ACCESS = "access", "Access"
        CORRECTION = "correction", "Correction"
        ERASURE = "erasure", "Erasure"
        RESTRICTION = "restriction", "Restriction"
        PORTABILITY = "portability", "Portability"
        OBJECTION = "objection", "Objection"
        CONSENT_WITHDRAWAL = "consent_withdrawal", "Withdrawal of consent"
        # Not rights, but made the same way (the public request page): answered through the same
        # states and within the same month, so nothing sent "via our contact page" is lost.
        COMPLAINT = "complaint", "Complaint about personal data"
        QUESTION = "question", "Question about personal data"

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        AWAITING_IDENTITY = "awaiting_identity", "Awaiting identity, clarification or a fee"
        IN_PROGRESS = "in_progress", "In progress"
        EXTENDED = "extended", "Extended"
        COMPLETED = "completed", "Completed"
        REFUSED = "refused", "Refused"
        FORWARDED = "forwarded", "Forwarded to the school"

    class PauseReason(models.TextChoices):
        """What a request waits for (``shared.privacy.requests.deadlines``: identity and a fee restart the
        month from their receipt; clarification stops the clock for the days it takes)."""

        IDENTITY = "identity", "Proof of identity"
        CLARIFICATION = "clarification", "Clarification"
        FEE = "fee", "A fee"

    class FeeReason(models.TextChoices):
        """The only grounds on which a fee may be asked: access is otherwise free."""

        UNFOUNDED = "unfounded", "Manifestly unfounded"
        EXCESSIVE = "excessive", "Manifestly excessive"
        FURTHER_COPIES = "further_copies", "Further copies (a repeat request)"

    OPEN_STATES = (State.RECEIVED, State.AWAITING_IDENTITY, State.IN_PROGRESS, State.EXTENDED)

    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.RECEIVED)
    received_on = models.DateField(default=clock.today)
    requester_name = models.CharField(max_length=200)
    requester_email = models.EmailField(blank=True)
    details = models.TextField(blank=True)
    paused_days = models.PositiveIntegerField(default=0)
    paused_since = models.DateField(null=True, blank=True)
    pause_reason = models.CharField(max_length=20, choices=PauseReason.choices, blank=True,
                                    help_text="What the request waits (or last waited) for")
    clock_started_on = models.DateField(null=True, blank=True,
                                        help_text="When the proof of identity or the fee arrived: the month runs from then")
    fee_reason = models.CharField(max_length=20, choices=FeeReason.choices, blank=True)
    fee_amount = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    extension_months = models.PositiveSmallIntegerField(default=0)
    extension_reason = models.CharField(max_length=300, blank=True)
    extension_told_on = models.DateField(null=True, blank=True)
    refusal_reason = models.TextField(blank=True, help_text="Shown to the person")
    closed_on = models.DateField(null=True, blank=True)
    email_verified_on = models.DateField(null=True, blank=True,
                                         help_text="When the requester followed a link mailed to their address: "
                                                   "an export's link goes only to a verified address")

    class Meta:
        abstract = True
        ordering = ["received_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request #{self.pk}"
