from __future__ import annotations

from django.db import models
from django.db.models import Q

from shared import clock
from shared.files import RootedFileStorage, random_name
from shared.schools.models import School


class Contract(models.Model):
    """A school's contract with the vendor. Cancelling it sets the dates the retention workers act
    on: configuration files go 3 months after cancellation, the school's schema 6 months after."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        NOTICE_GIVEN = "notice_given", "Notice given"
        CANCELLED = "cancelled", "Cancelled"
        ENDED = "ended", "Ended"

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="contracts")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="Blank for a rolling contract.")
    notice_given_on = models.DateField(null=True, blank=True)
    cancelled_on = models.DateField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=500, blank=True)
    config_files_delete_on = models.DateField(null=True, blank=True)
    schema_drop_on = models.DateField(null=True, blank=True)
    last_used_on = models.DateField(null=True, blank=True, help_text="Kept current from the school site's traffic.")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="clients_contract_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school} contract from {self.starts_on:%d %b %Y}"


class Contact(models.Model):
    """A person at a client school the vendor deals with (Contact Information). One who stops
    being the school's contact (``ended_on``, say when the school replaces them) runs on their own
    7-year clock from then, not only when the whole contract ends."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="contacts")
    full_name = models.CharField(max_length=200)
    role = models.CharField(max_length=120, blank=True, help_text="e.g. Headteacher, School business manager")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True, help_text="Postal address")
    is_primary = models.BooleanField(default=False)
    processing_restricted = models.BooleanField(
        default=False, db_default=False, help_text="Restricted at the person's request: kept, but nothing automated uses it")
    last_interaction_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    ended_on = models.DateField(null=True, blank=True, help_text="When they stopped being the school's contact")

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name


class OptionalMail(models.TextChoices):
    """The communications to client contacts that rest on the contact's consent: nothing the
    contract needs (invoices, service notices, answers to their correspondence), so each is sent
    only to those who consented to it and have not withdrawn."""

    PRODUCT_NEWS = "product_news", "Product news and updates"
    WEBINARS = "webinars", "Webinars, training events and surveys"


class ContactConsent(models.Model):
    """A client contact's consent to one kind of optional communication: when and how it was given,
    and when and how it was withdrawn. One in force per contact and purpose; consent given again
    after a withdrawal is a new row, so the history stays."""

    Purpose = OptionalMail

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=20, choices=OptionalMail.choices)
    given_at = models.DateTimeField(default=clock.now)
    given_how = models.CharField(max_length=300, help_text="How it was given, e.g. the sign-up form of a webinar")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_how = models.CharField(max_length=300, blank=True)
    recorded_by_id = models.BigIntegerField(null=True, blank=True, help_text="The operator's user id.")

    class Meta:
        ordering = ["-given_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "purpose"], condition=Q(withdrawn_at__isnull=True),
                                    name="clients_consent_one_in_force"),
            models.CheckConstraint(condition=Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gte=models.F("given_at")),
                                   name="clients_consent_withdrawn_after_given"),
        ]

    def __str__(self) -> str:
        return f"{self.contact}: {self.get_purpose_display()}"


class ClientAccount(models.Model):
    """Log-in Information: an account a client registered with the service (its school admins),
    as the vendor records it. The password lives only in the school's own schema."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="client_accounts")
    email = models.EmailField()
    full_name = models.CharField(max_length=200, blank=True)
    registered_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(fields=["school", "email"], name="clients_account_unique_email")]

    def __str__(self) -> str:
        return self.email


class Correspondence(models.Model):
    """A letter, email, call or meeting with a client (Correspondence Information)."""

    class Direction(models.TextChoices):
        INBOUND = "in", "From the client"
        OUTBOUND = "out", "To the client"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        LETTER = "letter", "Letter"
        MEETING = "meeting", "Meeting"
        OTHER = "other", "Other"

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="correspondence")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="correspondence")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    occurred_at = models.DateTimeField(default=clock.now)
    recorded_by_id = models.BigIntegerField(null=True, blank=True, help_text="The operator's user id.")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "correspondence"

    def __str__(self) -> str:
        return self.subject


class VendorFileStorage(RootedFileStorage):
    """The vendor's own files (correspondence attachments), under ``VENDOR_FILES_ROOT``."""

    root_setting = "VENDOR_FILES_ROOT"


vendor_files = VendorFileStorage()


def attachment_upload_to(instance: CorrespondenceAttachment, filename: str) -> str:
    """``correspondence/<school id>/<random>.<ext>``: one folder per client, the name in the row only."""
    return random_name(f"correspondence/{instance.correspondence.school_id}", filename)


class CorrespondenceAttachment(models.Model):
    """A file sent or received with a letter or email; checked by its content, served only by the
    console's attachment view, and deleted (file first) with its correspondence."""

    correspondence = models.ForeignKey(Correspondence, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_upload_to, storage=vendor_files)
    name = models.CharField(max_length=255)
    size = models.PositiveIntegerField()
    content_type = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return self.name


class Complaint(models.Model):
    """A complaint or problem report, with its handling (Complaints Information)."""

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", "Complaint"
        PROBLEM = "problem", "Problem report"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        INVESTIGATING = "investigating", "Investigating"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    OPEN_STATUSES = (Status.OPEN, Status.INVESTIGATING)

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="complaints")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="complaints")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COMPLAINT)
    summary = models.CharField(max_length=200)
    details = models.TextField(blank=True)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.OPEN)
    received_at = models.DateTimeField(default=clock.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return self.summary
