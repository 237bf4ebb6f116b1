from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from shared import clock
from shared.mail.topics import Topic
from shared.schools.models import School


class OutgoingMessage(models.Model):
    """One message as it was rendered for one address, and how its delivery went. Technical
    information: kept 365 days from when it was made (``mail_log``)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    to = models.EmailField(max_length=254)
    topic = models.CharField(max_length=20, choices=[(t.value, t.label) for t in Topic])
    template = models.CharField(max_length=100)
    sender = models.CharField(max_length=20, help_text="The sender purpose (service, privacy, news).")
    from_email = models.CharField(max_length=254)
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message_id = models.CharField(max_length=255, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "created_at"]), models.Index(fields=["to"])]

    def __str__(self) -> str:
        return f"{self.template} ({self.get_state_display()})"


class MailPreference(models.Model):
    """Which non-critical topics one address has turned off. Marketing information: kept 3 years
    from its last change (``mail_preference``)."""

    address = models.EmailField(max_length=254, unique=True)
    unsubscribed = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    changed_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"mail preference {self.pk}"
