from __future__ import annotations

from django.db import models
from django.db.models import Q

from shared import clock
from shared.privacy.request_base import SubjectRequestBase
from shared.privacy.retention.registry import Category
from shared.schools.models import School

CATEGORY_CHOICES = [(c.value, c.value.replace("_", " ").capitalize()) for c in Category]


class LegalHold(models.Model):
    """Prolongs retention: nothing it covers is deleted, by any path, while it is active. It names a
    client, a person (an internal key such as ``prospect:12``) or a category, or several."""

    reason = models.CharField(max_length=300)
    owner = models.CharField(max_length=200, help_text="Who is responsible for lifting it")
    starts_on = models.DateField(default=clock.today)
    ends_on = models.DateField(null=True, blank=True, help_text="Blank: until lifted")
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="legal_holds")
    person = models.CharField(max_length=100, blank=True)
    category = models.CharField(max_length=20, choices=CATEGORY_CHOICES, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [models.CheckConstraint(
            condition=~models.Q(school__isnull=True, person="", category=""), name="privacy_hold_names_something")]


class RetentionShortening(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="retention_shortenings")
    category = models.CharField(max_length=20, choices=CATEGORY_CHOICES)
    months = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=clock.now)


class RetentionRun(models.Model):
    as_of = models.DateField()
    started_at = models.DateTimeField(default=clock.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    units_deleted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]


class DeletionRecord(models.Model):
    """What retention destroyed: which kind of unit (ids only), which client, how many records,
    under which rule and policy version, in which run and when. No personal data."""

    kind = models.CharField(max_length=40)
    unit = models.CharField(max_length=120, help_text="Ids, never names")
    school_id = models.BigIntegerField(null=True, blank=True)
    category = models.CharField(max_length=20, choices=CATEGORY_CHOICES)
    records_deleted = models.PositiveIntegerField()
    rule = models.CharField(max_length=300)
    policy_version = models.CharField(max_length=20)
    due_on = models.DateField()
    run = models.ForeignKey(RetentionRun, on_delete=models.PROTECT, related_name="deletions")
    executed_at = models.DateTimeField(default=clock.now)
    backup_keys_destroyed = models.PositiveSmallIntegerField(
        default=0, help_text="Backup data keys destroyed with the unit: every backup made with them is unreadable")

    class Meta:
        ordering = ["-executed_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "unit"], name="privacy_deletion_once")]


class SubjectRequest(SubjectRequestBase):
    """A request that reached the vendor. Requests about the vendor's own records are the vendor's
    to answer; requests about pupils, parents and school users are forwarded to the school, and the
    hand-over is recorded here (and the request appears in the school's own list)."""

    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.SET_NULL, related_name="subject_requests")
    forwarded_on = models.DateField(null=True, blank=True)
    submission_ref = models.CharField(max_length=32, null=True, blank=True, unique=True,
                                      help_text="The public request page's submission it came from (confirmed once)")
    # Whom a request about the vendor's own records is about (one of these, named on the request's
    # page); the label stays after an erasure removes the record.
    subject_contact = models.ForeignKey("clients.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    subject_account = models.ForeignKey("clients.ClientAccount", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    subject_prospect = models.ForeignKey("marketing.Prospect", null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+")
    subject_operator = models.ForeignKey("operators.Operator", null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+")
    subject_label = models.CharField(max_length=120, blank=True,
                                     help_text="Who the request is about, kept after an erasure removes the record")

    SUBJECT_FIELDS = ("subject_contact", "subject_account", "subject_prospect", "subject_operator")

    def subject(self):
        """The vendor's record the request is about, or None."""
        return self.subject_contact or self.subject_account or self.subject_prospect or self.subject_operator


class ErasureLedgerEntry(models.Model):
    """One erased record in a school's schema, kept in public so that it outlives a restore of
    that schema from a backup: ``manage.py erasure_replay`` erases it again. Ids and a keyed digest
    of the MIS id only (so a later import can recognise the person without the ledger naming them).

    A record of the vendor's own (a client contact, a prospect, an operator's account) has no school
    and ``schema_name`` "public": ``manage.py erasure_replay --public`` erases it again after a restore
    of public, from this table and from its copy outside the database (``ERASURE_LEDGER_MIRROR``)."""

    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="erasures")
    schema_name = models.CharField(max_length=63)
    model = models.CharField(max_length=60, help_text="app_label.model of the erased record")
    object_id = models.BigIntegerField()
    xporter_digest = models.CharField(max_length=64, blank=True, help_text="HMAC of the Xporter id, never the id")
    request_ref = models.CharField(max_length=60, blank=True, help_text="Which request asked for it (ids only)")
    erased_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["erased_at", "id"]
        constraints = [models.UniqueConstraint(fields=["school", "model", "object_id"], name="privacy_erasure_once"),
                       models.UniqueConstraint(fields=["schema_name", "model", "object_id"], condition=models.Q(school=None),
                                               name="privacy_vendor_erasure_once")]


class RecipientTask(models.Model):
    """Telling one recipient of a correction or an erasure: opened by the request's answer for each
    recipient holding the person's data (``shared.compliance.recipients.recipient_tasks_open``),
    then marked done (how, when, the evidence) or closed with a reason. The request it belongs to
    cannot close while it is open. A vendor request is ``subject_request``; a school's is
    ``school`` + ``school_request_id`` (its row lives in the school's schema). Who was to be told
    is copied from the register when the task opens, so the task stays readable as it was."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CLOSED = "closed", "Closed with a reason"

    class Asked(models.TextChoices):
        CORRECTION = "correction", "Correction"
        ERASURE = "erasure", "Erasure"

    class Method(models.TextChoices):
        EMAIL = "email", "Email"
        LETTER = "letter", "Letter"
        PHONE = "phone", "Phone"
        PORTAL = "portal", "Their portal or service desk"
        OTHER = "other", "Other"

    subject_request = models.ForeignKey(SubjectRequest, null=True, blank=True, on_delete=models.CASCADE,
                                        related_name="recipient_tasks")
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    school_request_id = models.BigIntegerField(null=True, blank=True, help_text="rights.SchoolRequest in the school")
    person = models.CharField(max_length=100, help_text="Whose data, as a key such as contact:12 or pupil:3:41")
    recipient_id = models.BigIntegerField(help_text="compliance.Recipient")
    recipient_name = models.CharField(max_length=200)
    recipient_reach = models.TextField(help_text="How to reach them, as the register said when the task opened")
    held = models.TextField(help_text="What they received, as the register said")
    asked = models.CharField(max_length=12, choices=Asked.choices)
    fields = models.JSONField(default=list, blank=True, help_text="The corrected fields' names (never values)")
    opened_at = models.DateTimeField(default=clock.now)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    told_at = models.DateTimeField(null=True, blank=True)
    told_how = models.CharField(max_length=10, choices=Method.choices, blank=True)
    evidence = models.TextField(blank=True, help_text="Where the message and any reply are kept")
    closed_reason = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["opened_at", "id"]
        constraints = [
            models.CheckConstraint(condition=(Q(subject_request__isnull=False) & Q(school__isnull=True)
                                              & Q(school_request_id__isnull=True))
                                   | (Q(subject_request__isnull=True) & Q(school__isnull=False)
                                      & Q(school_request_id__isnull=False)),
                                   name="privacy_task_one_request"),
            models.CheckConstraint(condition=~Q(state="done") | (Q(told_at__isnull=False) & ~Q(told_how="")),
                                   name="privacy_task_done_says_how"),
            models.CheckConstraint(condition=~Q(state="closed") | ~Q(closed_reason=""),
                                   name="privacy_task_closed_has_reason"),
        ]

    def __str__(self) -> str:
        return f"Task #{self.pk} ({self.recipient_name})"


class VendorExportLink(models.Model):
    """An export of what the vendor holds about a requester (``exports.vendor``), downloadable once
    from the link mailed to their verified address, until it expires. The zip is kept in the row
    (a vendor export is small) and emptied as it is handed out or expires; only a digest of the
    link's token is stored."""

    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE, related_name="export_links")
    token_digest = models.CharField(max_length=64, unique=True)
    content = models.BinaryField(blank=True)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    downloaded_at = models.DateTimeField(null=True, blank=True)
