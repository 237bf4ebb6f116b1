from __future__ import annotations

from django.conf import settings
from django.db import models


class SenProvision(models.TextChoices):
    NONE = "N", "No special provision"
    SUPPORT = "K", "SEN support"
    EHCP = "E", "Education, health and care plan"


class Pupil(models.Model):
    """A pupil as the school's management information system exports them."""

    class Gender(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        OTHER = "X", "Other or not stated"

    # Keys from Xporter: pupils are matched on these, never on the UPN.
    xporter_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    external_id = models.CharField(max_length=64, blank=True)
    row_hash = models.CharField(max_length=64, blank=True)

    forename = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    legal_forename = models.CharField(max_length=100, blank=True)
    legal_surname = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=1, choices=Gender.choices, default=Gender.OTHER)
    year_group = models.CharField(max_length=30, blank=True, db_index=True)
    registration_group = models.CharField(max_length=30, blank=True)
    admission_date = models.DateField(null=True, blank=True)
    leaving_date = models.DateField(null=True, blank=True)
    on_roll = models.BooleanField(default=True, db_index=True)
    sen_provision = models.CharField(max_length=1, choices=SenProvision.choices, default=SenProvision.NONE)
    fsm = models.BooleanField("Free school meals", default=False)
    fsm_ever6 = models.BooleanField("FSM Ever 6", default=False)
    pupil_premium = models.BooleanField(default=False)
    eal = models.BooleanField("English as an additional language", default=False)
    looked_after = models.BooleanField("Looked after (in care)", default=False)
    # Xporter's EverInCare: looked after now or at any time before (adopted from care, a special
    # guardianship or child arrangements order); such pupils attract pupil premium plus.
    ever_in_care = models.BooleanField("Ever in care", default=False)
    service_child = models.BooleanField(default=False)
    ethnicity_code = models.CharField(max_length=10, blank=True)
    first_language = models.CharField(max_length=50, blank=True)
    # Confidential: for matching only. Never rendered, never in a URL, a login or a key.
    upn = models.CharField("UPN", max_length=13, blank=True)

    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="pupil")
    # Set by a restriction or objection request: the record is kept, but no automated process
    # (imports, analytics) touches it while set.
    processing_restricted = models.BooleanField(default=False)
    processing_objected = models.BooleanField(default=False)

    class Meta:
        ordering = ["surname", "forename", "id"]

    def __str__(self) -> str:
        return f"{self.forename} {self.surname}"

    @property
    def disadvantaged(self) -> bool:
        """The DfE's disadvantaged measure: pupil premium or FSM at any time in the last six years."""
        return self.pupil_premium or self.fsm_ever6

    @property
    def has_sen(self) -> bool:
        return self.sen_provision != SenProvision.NONE

    @property
    def characteristics(self) -> list[str]:
        """The pupil's characteristics in words, for a page to join (nothing when there are none)."""
        found = [label for present, label in (
            (self.disadvantaged, "Disadvantaged"), (self.fsm, "Free school meals"),
            (self.eal, f"EAL ({self.first_language})" if self.first_language else "EAL"),
            (self.looked_after, "Looked after"), (self.ever_in_care and not self.looked_after, "Previously looked after"),
            (self.service_child, "Service child")) if present]
        return found


class ParentCarer(models.Model):
    xporter_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    row_hash = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=20, blank=True)
    forename = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="parent_carer")
    # Set by a restriction or objection request: the record is kept, but no automated process
    # (imports, analytics) touches it while set.
    processing_restricted = models.BooleanField(default=False)
    processing_objected = models.BooleanField(default=False)
    children = models.ManyToManyField(Pupil, through="PupilParent", related_name="parents")

    class Meta:
        ordering = ["surname", "forename", "id"]

    def __str__(self) -> str:
        return f"{self.title} {self.forename} {self.surname}".strip()


class PupilParent(models.Model):
    xporter_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    row_hash = models.CharField(max_length=64, blank=True)
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="parent_links")
    parent = models.ForeignKey(ParentCarer, on_delete=models.CASCADE, related_name="child_links")
    relationship = models.CharField(max_length=40, blank=True, help_text="e.g. Mother, Father, Carer")
    priority = models.PositiveSmallIntegerField(default=1)
    parental_responsibility = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority"]
        constraints = [models.UniqueConstraint(fields=["pupil", "parent"], name="pupils_pupilparent_unique")]


class Group(models.Model):
    class Kind(models.TextChoices):
        YEAR = "year", "Year group"
        REGISTRATION = "registration", "Registration group"
        TEACHING = "teaching", "Teaching group"

    xporter_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    row_hash = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    name = models.CharField(max_length=60)
    pupils = models.ManyToManyField(Pupil, related_name="groups", blank=True)
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="taught_groups", blank=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class RetentionSettings(models.Model):
    """The school's own retention choice (one row): how long after a pupil leaves their records
    are deleted. The school is the controller of pupil data, so it may shorten or extend this."""

    DEFAULT_GRACE_MONTHS = 12

    grace_months = models.PositiveSmallIntegerField(
        default=DEFAULT_GRACE_MONTHS, help_text="Months after a pupil's leaving date before their records are deleted.")
    changed_at = models.DateTimeField(auto_now=True)
