from __future__ import annotations

from django.db import models
from django.db.models import Q

from shared import clock


class Prospect(models.Model):
    """A person the vendor talks to about becoming a client (business development)."""

    full_name = models.CharField(max_length=200)
    organisation = models.CharField(max_length=200, help_text="School or trust")
    role = models.CharField(max_length=120, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    notes = models.TextField(blank=True)
    last_interaction_at = models.DateTimeField(default=clock.now)
    objected_to_marketing_at = models.DateTimeField(
        null=True, blank=True, help_text="Set once they object to direct marketing: never contacted again."
    )
    processing_restricted = models.BooleanField(
        default=False, db_default=False, help_text="Restricted at the person's request: kept, but never marketed to")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["organisation", "full_name"]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.organisation})"

    @property
    def may_be_contacted(self) -> bool:
        return self.objected_to_marketing_at is None and not self.processing_restricted


class ProspectInteraction(models.Model):
    """A touch point with a prospect: a call, an email, a demo."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        MEETING = "meeting", "Meeting or demo"
        EVENT = "event", "Event"

    class Direction(models.TextChoices):
        INBOUND = "in", "From them"
        OUTBOUND = "out", "From us"

    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="interactions")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    summary = models.CharField(max_length=300)
    occurred_at = models.DateTimeField(default=clock.now)
    recorded_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]


class MarketingPurpose(models.TextChoices):
    """Direct marketing that rests on the prospect's consent."""

    NEWS_AND_OFFERS = "news_and_offers", "News and offers about Pupil Tracking, by email"


class ProspectConsent(models.Model):
    """A prospect's consent to direct marketing: when and how it was given, and when and how it was
    withdrawn. One in force per prospect and purpose; given again after a withdrawal is a new row.
    An objection to direct marketing withdraws it, and none can be given after one."""

    Purpose = MarketingPurpose

    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=20, choices=MarketingPurpose.choices, default=MarketingPurpose.NEWS_AND_OFFERS)
    given_at = models.DateTimeField(default=clock.now)
    given_how = models.CharField(max_length=300, help_text="How it was given, e.g. ticked the box at an event")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_how = models.CharField(max_length=300, blank=True)
    recorded_by_id = models.BigIntegerField(null=True, blank=True, help_text="The operator's user id.")

    class Meta:
        ordering = ["-given_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["prospect", "purpose"], condition=Q(withdrawn_at__isnull=True),
                                    name="marketing_consent_one_in_force"),
            models.CheckConstraint(condition=Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gte=models.F("given_at")),
                                   name="marketing_consent_withdrawn_after_given"),
        ]

    def __str__(self) -> str:
        return f"{self.prospect}: {self.get_purpose_display()}"
