from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from shared import clock
from shared.privacy.retention.registry import Category
from shared.schools.models import School


class DataSubject(models.TextChoices):
    """The kinds of people whose data the service holds."""

    PUPILS = "pupils", "Pupils"
    PARENTS = "parents", "Parents and carers"
    SCHOOL_STAFF = "school_staff", "School staff using the service"
    CLIENT_CONTACTS = "client_contacts", "Clients' contacts and account holders"
    PROSPECTS = "prospects", "Prospects (marketing contacts)"
    OPERATORS = "operators", "Our own staff"
    OTHER = "other", "Other people"


# The registry's categories, named for people reading a register rather than for the code.
CATEGORY_LABELS: dict[str, str] = {
    Category.TAX: "Invoicing, payment and tax records",
    Category.CONTRACT: "Client, contract, account and correspondence records",
    Category.MARKETING: "Marketing and business development records",
    Category.TECHNICAL: "Technical information (IP addresses, user ids, visits, changes, sessions)",
    Category.CONFIGURATION: "Schools' configuration files and settings",
    Category.PUPIL: "Pupil data (held for the schools)",
    Category.DEFAULT: "Other records",
}
DATA_CATEGORY_CHOICES = [(category.value, CATEGORY_LABELS[category]) for category in Category]


class Breach(models.Model):
    """A personal-data breach: what happened and to whom, the risk, the decision whether to report
    it to the ICO (with its reasoning, also when the answer is no), the report, and who was told.
    The ICO report is due 72 hours after the vendor became aware (``shared.compliance.breach_report_deadline``)."""

    class Risk(models.TextChoices):
        LOW = "low", "Unlikely to result in a risk to people"
        MEDIUM = "medium", "A risk to people's rights and freedoms"
        HIGH = "high", "A high risk to people's rights and freedoms"

    class Decision(models.TextChoices):
        REPORT = "report", "Report to the ICO"
        NOT_REPORT = "not_report", "Do not report to the ICO"

    summary = models.CharField(max_length=200, help_text="A line to find it by")
    nature = models.TextField(help_text="What happened")
    occurred_at = models.DateTimeField(null=True, blank=True, help_text="When it happened, where known")
    aware_at = models.DateTimeField(help_text="When we became aware of it: the ICO's 72 hours run from here")
    people_categories = ArrayField(models.CharField(max_length=20, choices=DataSubject.choices), default=list)
    data_categories = ArrayField(models.CharField(max_length=20, choices=DATA_CATEGORY_CHOICES), default=list)
    people_affected = models.PositiveIntegerField(null=True, blank=True, help_text="Approximate number of people")
    records_affected = models.PositiveIntegerField(null=True, blank=True, help_text="Approximate number of records")
    consequences = models.TextField(help_text="Likely consequences for the people affected")
    measures = models.TextField(help_text="Measures taken or proposed, including to limit its effects")
    schools = models.ManyToManyField(School, blank=True, related_name="breaches")
    risk = models.CharField(max_length=10, choices=Risk.choices)
    ico_decision = models.CharField(max_length=12, choices=Decision.choices, blank=True)
    ico_decision_reasoning = models.TextField(blank=True)
    ico_decided_at = models.DateTimeField(null=True, blank=True)
    ico_reported_at = models.DateTimeField(null=True, blank=True)
    ico_reference = models.CharField(max_length=100, blank=True)
    ico_delay_reason = models.TextField(blank=True, help_text="Why the report came after 72 hours")
    closed_at = models.DateTimeField(null=True, blank=True)
    recorded_by_id = models.BigIntegerField(null=True, blank=True, help_text="The operator's user id.")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-aware_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ico_decision="") | ~Q(ico_decision_reasoning=""),
                                   name="compliance_breach_decision_has_reasoning"),
            models.CheckConstraint(condition=Q(ico_reported_at__isnull=True) | Q(ico_decision="report"),
                                   name="compliance_breach_reported_only_when_decided"),
        ]

    def __str__(self) -> str:
        return self.summary

    @property
    def reference(self) -> str:
        return f"B-{self.pk:04d}"

    @property
    def people_category_labels(self) -> list[str]:
        return [DataSubject(value).label for value in self.people_categories]

    @property
    def data_category_labels(self) -> list[str]:
        return [CATEGORY_LABELS[value] for value in self.data_categories]


class BreachNotification(models.Model):
    """Who was told about a breach, when, how and what: an affected school (the controller of its
    pupils' data), or the people affected where the risk to them is high."""

    class Audience(models.TextChoices):
        SCHOOL = "school", "An affected school"
        PEOPLE = "people", "The people affected"

    class Method(models.TextChoices):
        EMAIL = "email", "Email"
        LETTER = "letter", "Letter"
        PHONE = "phone", "Phone"
        IN_SERVICE = "in_service", "A message in the service"
        OTHER = "other", "Other"

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="notifications")
    audience = models.CharField(max_length=10, choices=Audience.choices)
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recipient = models.CharField(max_length=200,
                                 help_text="Who was told, e.g. the headteacher, or 'parents of 12 pupils'")
    method = models.CharField(max_length=12, choices=Method.choices)
    notified_at = models.DateTimeField()
    content = models.TextField(help_text="What they were told")
    recorded_by_id = models.BigIntegerField(null=True, blank=True, help_text="The operator's user id.")
    # A person told by email from the register: the message that told them (``shared.mail``), and
    # whether it was delivered (sent) or set aside after its retries (failed).
    message_id = models.BigIntegerField(null=True, blank=True, help_text="The outgoing message's id.")
    delivery = models.CharField(max_length=7, choices=[("", "Not by the service's mail"), ("queued", "Queued"),
                                                       ("sent", "Sent"), ("failed", "Failed")], blank=True, default="")

    class Meta:
        ordering = ["notified_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(audience="people") | Q(school__isnull=False),
                                              name="compliance_notification_school_named")]


class DisclosureGround(models.TextChoices):
    """The grounds on which the privacy notice allows a disclosure: exactly its "Sharing your
    information" list, and its closing clause (the person's permission)."""

    LEGAL_OBLIGATION = "legal_obligation", "A legal obligation, such as a court order or preventing fraud or crime"
    ENFORCE_TERMS = "enforce_terms", "Enforcing our terms and conditions or agreements"
    SALE_RESTRUCTURING = "sale_restructuring", "A sale of some or all of the business or a restructuring"
    PROTECT_RIGHTS = "protect_rights", "Protecting the rights, property or safety of us, our clients or others"
    PERMISSION = "permission", "The person's permission"


class Disclosure(models.Model):
    """Personal data given to a third party, on one of the grounds the privacy notice allows: to
    whom, what, about whom, when, why, who authorised it, and the documents behind it."""

    Ground = DisclosureGround

    recipient = models.CharField(max_length=200, help_text="To whom: the organisation, and the person there")
    disclosed_at = models.DateTimeField()
    ground = models.CharField(max_length=20, choices=Ground.choices)
    data_categories = ArrayField(models.CharField(max_length=20, choices=DATA_CATEGORY_CHOICES), default=list)
    schools = models.ManyToManyField(School, blank=True, related_name="disclosures")
    people = models.TextField(blank=True, help_text="Whose data: which people, or how they were chosen")
    description = models.TextField(help_text="What was disclosed")
    authorised_by = models.CharField(max_length=200, help_text="Who authorised it")
    references = models.TextField(blank=True, help_text="The request, order or permission, and where it is kept")
    recorded_by_id = models.BigIntegerField(null=True, blank=True, help_text="The operator's user id.")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-disclosed_at", "-id"]
        constraints = [models.CheckConstraint(
            condition=Q(ground__in=DisclosureGround.values),
            name="compliance_disclosure_notice_ground")]

    def __str__(self) -> str:
        return f"Disclosure to {self.recipient}"

    @property
    def data_category_labels(self) -> list[str]:
        return [CATEGORY_LABELS[value] for value in self.data_categories]


class NoticeVersion(models.Model):
    """A published version of the privacy notice: the whole text, and what changed. The latest
    published is the one every site shows."""

    version = models.CharField(max_length=20, unique=True)
    published_on = models.DateField(default=clock.today)
    text = models.TextField()
    summary = models.TextField(help_text="What changed from the previous version")
    published_by_id = models.BigIntegerField(null=True, blank=True, help_text="The operator's user id.")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-published_on", "-id"]

    def __str__(self) -> str:
        return f"Privacy notice version {self.version}"


class Recipient(models.Model):
    """Someone outside the vendor (or outside a school) who received personal data and must be told
    when it is corrected or erased: a sub-processor such as the host, the recipient of an entry in
    the disclosure register, or anyone an export or transfer went to. ``school`` set: a school's
    own recipient (one its admins recorded on their site), seen only by that school; blank: the
    vendor's."""

    class Kind(models.TextChoices):
        SUB_PROCESSOR = "sub_processor", "A sub-processor (e.g. the host)"
        DISCLOSURE = "disclosure", "A disclosure in the disclosure register"
        EXPORT = "export", "An export or transfer went to them"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200, help_text="The organisation")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    contact = models.CharField(max_length=200, blank=True, help_text="The person or role there")
    how_to_reach = models.TextField(help_text="Email, address or telephone: how they are told of a change")
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="recipients",
                               help_text="A school's own recipient; blank for the vendor's")
    recorded_by_id = models.BigIntegerField(null=True, blank=True, help_text="The operator's or school user's id.")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class RecipientHolding(models.Model):
    """What one recipient received, and whose data it was: one person (``person``, a key such as
    ``contact:12`` or ``pupil:3:41``: the convention of ``LegalHold.person``), or everyone of a
    scope (``scope``: all of the vendor's own records, all of one school's data, or all of every
    school's), for a recipient such as the host that holds everything."""

    class Scope(models.TextChoices):
        PERSON = "person", "One person"
        VENDOR = "vendor", "Everyone in the vendor's own records"
        SCHOOL = "school", "Everyone in one school's data"
        EVERY_SCHOOL = "every_school", "Everyone in every school's data"

    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="holdings")
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.PERSON)
    person = models.CharField(max_length=100, blank=True, db_index=True)
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               help_text="The school whose data it was (a school's person, or a whole school)")
    what = models.TextField(help_text="What they received")
    received_on = models.DateField(null=True, blank=True)
    disclosure = models.ForeignKey(Disclosure, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="holdings")
    recorded_by_id = models.BigIntegerField(null=True, blank=True, help_text="The operator's or school user's id.")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(scope="person", person__gt="") | (~Q(scope="person") & Q(person="")),
                                   name="compliance_holding_person_iff_one"),
            models.CheckConstraint(condition=~Q(scope="school") | Q(school__isnull=False),
                                   name="compliance_holding_school_named"),
        ]
class TermsVersion(models.Model):
    """A published version of the Terms of Use: the data-processing terms under which the vendor is
    each school's processor (UK GDPR Article 28(3)). The latest published is the one every school
    must have accepted; publishing a new one asks each school's admin to accept again."""

    version = models.CharField(max_length=20, unique=True)
    published_on = models.DateField(default=clock.today)
    text = models.TextField()
    summary = models.TextField(help_text="What changed from the previous version")
    published_by_id = models.BigIntegerField(null=True, blank=True, help_text="The operator's user id.")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-published_on", "-id"]

    def __str__(self) -> str:
        return f"Terms of Use version {self.version}"


class TermsAcceptance(models.Model):
    """A school's acceptance of one version of the Terms of Use: who (the school admin's user id in
    the school's own schema, and the name they typed), when, and from which address. Kept in
    ``public``: the vendor is the controller of this record (a contract record)."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="terms_acceptances")
    terms = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="acceptances")
    user_id = models.BigIntegerField(help_text="The school admin's user id, in the school's schema.")
    user_name = models.CharField(max_length=200, help_text="The name the admin gave when accepting.")
    user_email = models.EmailField(blank=True, help_text="The admin's sign-in email at the time.")
    accepted_at = models.DateTimeField(default=clock.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True, help_text="Where the acceptance came from.")

    class Meta:
        ordering = ["-accepted_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["school", "terms"], name="compliance_terms_accepted_once")]

    def __str__(self) -> str:
        return f"{self.school} accepted {self.terms}"
