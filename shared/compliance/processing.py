"""The record of processing activities (UK GDPR Article 30), generated rather than typed in.

The personal-data registry says which categories of data exist, which fields hold them, how long
each is kept and on which lawful basis. This module adds the one thing the registry does not know,
the purposes, transcribed once from the privacy notice's "How we use your personal data" table,
with the recipients, transfers and security measures the notice states (and those the product
itself enforces). ``controller_rows`` is the vendor's record as controller; ``processor_records``
is one record per client school, the vendor acting as the school's processor, with the automated
processes that read the school's data and when each last ran for it (``shared.automation``).

Where the notice's table names no purpose for a category the registry holds (invoicing, marketing,
correspondence and complaints, configuration files), the purpose comes from the notice's other
sections and is marked ``in_notice_table=False``: the next version of the notice should add it to
the table.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from shared.compliance.models import CATEGORY_LABELS, DataSubject, DisclosureGround
from shared.csvfiles import csv_writer
from shared.privacy.retention.registry import REGISTRY, RULES, Category

C, S = Category, DataSubject


@dataclass(frozen=True)
class Controller:
    name: str
    role: str
    registration: str
    contact: str
    data_protection_officer: str
    representative: str


CONTROLLER = Controller(
    name="Pupil Tracking Ltd",
    role="Controller of the information clients give when they become clients and of certain information from "
         "users of the service; processor of the information each school stores on the service (the school is "
         "its controller).",
    registration="Registered under the Data Protection Act 1998 and, from 25 May 2018, the GDPR (privacy notice).",
    contact="Through the contact page, as the privacy notice's \"Contact us\" says.",
    data_protection_officer="Not named in the privacy notice.",
    representative="None: the controller is established in the United Kingdom.",
)


@dataclass(frozen=True)
class Purpose:
    activity: str  # the notice's wording
    notice_data_types: tuple[str, ...]
    lawful_basis: str
    data_subjects: tuple[str, ...]
    categories: tuple[Category, ...]
    in_notice_table: bool = True
    source: str = "Privacy notice: How we use your personal data"


_CONTRACT_BASIS = "Performance of a contract. Necessary for our legitimate interests (in order to provide our service)"
_BUSINESS_BASIS = ("Necessary for our legitimate interests (for running our business, provision of administration and "
                   "IT services, network security, to prevent fraud and in the context of a business reorganisation). "
                   "Necessary to comply with a legal obligation")

PURPOSES: tuple[Purpose, ...] = (
    Purpose("When you become a client", ("Log-in Information", "Contact Information"),
            "Performance of a contract. Necessary for our legitimate interests (to establish necessary information "
            "in order to provide our Service)", (S.CLIENT_CONTACTS,), (C.CONTRACT,)),
    Purpose("When you use the Service as a client (school, teacher)", ("User Identity", "IP Address"),
            _CONTRACT_BASIS, (S.SCHOOL_STAFF, S.CLIENT_CONTACTS), (C.CONTRACT, C.TECHNICAL)),
    Purpose("When you use the Service as Related User (a parent, pupil or carer)", ("User Identity", "IP Address"),
            _CONTRACT_BASIS, (S.PARENTS, S.PUPILS), (C.CONTRACT, C.TECHNICAL)),
    Purpose("When we are asked to assist with technical issues by our clients involving data held in our service",
            ("Pupil Data", "User Identity", "IP Address"), _CONTRACT_BASIS,
            (S.PUPILS, S.PARENTS, S.SCHOOL_STAFF), (C.PUPIL, C.CONTRACT, C.TECHNICAL)),
    Purpose("To verify whether our Terms of Use are being complied with.", ("User Identity", "IP Address"),
            _BUSINESS_BASIS, (S.SCHOOL_STAFF, S.PARENTS, S.PUPILS), (C.CONTRACT, C.TECHNICAL)),
    Purpose("To administer and protect our business, including troubleshooting, data analysis, testing, system "
            "maintenance, support, reporting and hosting of data.", ("User Identity", "IP Address"),
            _BUSINESS_BASIS, (S.SCHOOL_STAFF, S.PARENTS, S.PUPILS, S.OPERATORS),
            (C.TECHNICAL, C.CONTRACT, C.CONFIGURATION, C.DEFAULT)),
    # Not in the notice's table: from its list of what we collect and its retention table.
    Purpose("Invoicing and payment, and keeping records for tax purposes",
            ("information relating to invoicing and payment transactions",), RULES[C.TAX].lawful_basis,
            (S.CLIENT_CONTACTS,), (C.TAX,), in_notice_table=False,
            source="Privacy notice: Personal data we collect as a Data Controller; Data Retention"),
    Purpose("Correspondence with clients, and handling their complaints and problem reports",
            ("Correspondence Information", "Complaints Information"), RULES[C.CONTRACT].lawful_basis,
            (S.CLIENT_CONTACTS,), (C.CONTRACT,), in_notice_table=False,
            source="Privacy notice: Personal data we collect as a Data Controller"),
    Purpose("Marketing and business development", ("marketing or business development records",),
            RULES[C.MARKETING].lawful_basis, (S.PROSPECTS,), (C.MARKETING,), in_notice_table=False,
            source="Privacy notice: Data Retention; Your privacy rights (the right to object)"),
    # Resting on consent alone: each goes only to the people whose consent to it is in force
    # (shared.clients.selectors.contacts_for_optional_mail, shared.marketing.selectors.prospects_for_marketing).
    Purpose("Optional communications to client contacts (product news, webinars and events), and direct marketing "
            "by email to prospects", ("Contact Information", "marketing or business development records"),
            "Consent, for each kind of communication, withdrawn at any time", (S.CLIENT_CONTACTS, S.PROSPECTS),
            (C.CONTRACT, C.MARKETING), in_notice_table=False,
            source="Privacy notice: Basis on which we process personal data (consent for specific purposes); "
                   "Right to withdraw consent"),
    Purpose("Keeping each client's configuration files while it is a client", ("client configuration files",),
            RULES[C.CONFIGURATION].lawful_basis, (S.SCHOOL_STAFF,), (C.CONFIGURATION,), in_notice_table=False,
            source="Privacy notice: Data Retention"),
)

# The notice's "Data Processing" section: what the vendor does with schools' data as processor.
PROCESSOR_PURPOSE = ("The personal data will be processed as required by the school to monitor pupil progress and "
                     "maintain processes necessary for the functioning of the school with respect to assessment.")
PROCESSOR_SUBJECTS: dict[Category, tuple[str, ...]] = {
    C.PUPIL: (S.PUPILS, S.PARENTS),
    C.CONTRACT: (S.SCHOOL_STAFF, S.PARENTS, S.PUPILS),  # the school's users' accounts
    C.TECHNICAL: (S.SCHOOL_STAFF, S.PARENTS, S.PUPILS),  # their sessions
    C.CONFIGURATION: (S.SCHOOL_STAFF,),
}

# Inside a school's schema the school decides: its pupils go on its own grace period, its users'
# accounts while it keeps them; the rest follows the registry's rules.
PROCESSOR_RETENTION: dict[Category, str] = {
    C.PUPIL: "while the pupil is with the school, then the school's own grace period after the pupil leaves "
             "(12 months unless the school sets another on its site)",
    C.CONTRACT: "while the school keeps the account",
}

SUB_PROCESSORS = ("Rackspace: server infrastructure (hosting), in the United Kingdom",)
RECIPIENTS = (
    "No routine recipients: we do not sell or share data",
    *SUB_PROCESSORS,
    "Third parties only on the privacy notice's grounds, each entered in the disclosure register: "
    + "; ".join(label.lower() for label in DisclosureGround.labels),
)
TRANSFERS = "None: all data is stored and processed in the United Kingdom"


@dataclass(frozen=True)
class SecurityMeasure:
    measure: str
    source: str  # "privacy notice" or "the product"


SECURITY_MEASURES: tuple[SecurityMeasure, ...] = (
    SecurityMeasure("Servers protected by security mechanisms and administered only with strictly controlled "
                    "public/private cryptographic keys", "privacy notice"),
    SecurityMeasure("Storage in secure locations that prevent unauthorised access (Rackspace, United Kingdom)",
                    "privacy notice"),
    SecurityMeasure("All communication with our servers encrypted in transit (TLS 1.2)", "privacy notice"),
    SecurityMeasure("In production: HTTPS only (plain HTTP redirected), HSTS for a year including subdomains, "
                    "secure cookies", "the product"),
    SecurityMeasure("The reverse proxy accepts TLS 1.2 and 1.3 only (older versions are refused in the handshake); "
                    "the product's own connections out (Xporter) need TLS 1.2 or newer with the certificate checked, "
                    "and HTTPS in production", "the product"),
    SecurityMeasure("Operators sign in with a password and a time-based one-time code (TOTP); each console screen "
                    "is open only to the roles that need it", "the product"),
    SecurityMeasure("Repeated failed sign-ins are refused for a while, per account and per IP address", "the product"),
    SecurityMeasure("Each school's data in its own PostgreSQL schema; a school's users, passwords and sessions live "
                    "in that schema, and session cookies are sent only to the host that set them", "the product"),
    SecurityMeasure("Passwords stored only as salted hashes; set-password links expire after 7 days", "the product"),
    SecurityMeasure("A change log of who added or changed what (field names, never values) and a visit log of "
                    "every request", "the product"),
    SecurityMeasure("Retention applied daily: records deleted when their period ends, each deletion recorded "
                    "without personal data", "the product"),
    SecurityMeasure("Forms protected against cross-site request forgery; pages load nothing from other sites",
                    "the product"),
)

HEADER = ("role", "controller", "purpose", "notice_data_types", "lawful_basis", "data_category",
          "category_lawful_basis", "data_subjects", "personal_data_fields", "retention", "recipients",
          "sub_processors", "transfers_outside_uk", "security_measures", "source")


@dataclass(frozen=True)
class Row:
    role: str  # "controller" or "processor"
    controller: str
    purpose: str
    notice_data_types: tuple[str, ...]
    lawful_basis: str
    category: Category
    data_subjects: tuple[str, ...]
    personal_data_fields: tuple[str, ...]
    retention: str
    recipients: tuple[str, ...]
    sub_processors: tuple[str, ...]
    transfers_outside_uk: str
    security_measures: tuple[str, ...]
    source: str

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS[self.category]

    @property
    def category_lawful_basis(self) -> str:
        return RULES[self.category].lawful_basis

    @property
    def data_subject_labels(self) -> tuple[str, ...]:
        return tuple(DataSubject(subject).label for subject in self.data_subjects)

    def as_csv(self) -> list[str]:
        join = "; ".join
        return [self.role, self.controller, self.purpose, join(self.notice_data_types), self.lawful_basis,
                self.category_label, self.category_lawful_basis, join(self.data_subject_labels),
                join(self.personal_data_fields), self.retention, join(self.recipients), join(self.sub_processors),
                self.transfers_outside_uk, join(self.security_measures), self.source]


def retention_text(category: Category) -> str:
    rule = RULES[category]
    return f"{rule.kept_for} from {rule.counts_from}" + (f"; {rule.also}" if rule.also else "")


def _tenant_app_labels() -> frozenset[str]:
    return frozenset(config.label for config in apps.get_app_configs() if config.name in settings.TENANT_APPS)


def personal_fields(category: Category, *, app_labels: Iterable[str] | None = None) -> tuple[str, ...]:
    """``model: field, field`` for every registered model of ``category`` with personal fields,
    optionally only those of ``app_labels``."""
    wanted = None if app_labels is None else frozenset(app_labels)
    return tuple(f"{label}: {', '.join(sorted(policy.personal))}"
                 for label, policy in sorted(REGISTRY.items())
                 if policy.category == category and policy.personal
                 and (wanted is None or label.split(".")[0] in wanted))


def _measures() -> tuple[str, ...]:
    return tuple(f"{m.measure} ({m.source})" for m in SECURITY_MEASURES)


def controller_rows() -> list[Row]:
    """The vendor's record: one row per purpose and category of data. A category the registry holds
    but no purpose names still gets a row, saying so, so that the gap shows."""
    measures = _measures()
    rows = []
    covered: set[Category] = set()
    for purpose in PURPOSES:
        for category in purpose.categories:
            covered.add(category)
            as_processor = RULES[category].controller == "school"
            rows.append(Row(
                role="processor" if as_processor else "controller",
                controller="The client school" if as_processor else CONTROLLER.name,
                purpose=purpose.activity, notice_data_types=purpose.notice_data_types,
                lawful_basis=purpose.lawful_basis, category=category, data_subjects=purpose.data_subjects,
                personal_data_fields=personal_fields(category), retention=retention_text(category),
                recipients=RECIPIENTS, sub_processors=SUB_PROCESSORS, transfers_outside_uk=TRANSFERS,
                security_measures=measures,
                source=purpose.source + ("" if purpose.in_notice_table else " (not in the notice's purposes table)"),
            ))
    for category in Category:
        if category not in covered:
            rows.append(Row(
                role="controller", controller=CONTROLLER.name,
                purpose="No purpose recorded: add one to shared/compliance/processing.py", notice_data_types=(),
                lawful_basis="", category=category, data_subjects=(), personal_data_fields=personal_fields(category),
                retention=retention_text(category), recipients=RECIPIENTS, sub_processors=SUB_PROCESSORS,
                transfers_outside_uk=TRANSFERS, security_measures=measures, source="the personal-data registry",
            ))
    return rows


@dataclass(frozen=True)
class ProcessorRecord:
    """The vendor as processor for one school: the school is the controller."""

    school_id: int
    school_name: str
    status: str
    schema_drop_on: object  # a date, once the contract is cancelled
    rows: tuple[Row, ...]
    # the automated processes that read the school's data, each with its last run for the school
    # (shared.audit.selectors.ProcessForSchool)
    automated: tuple = ()
    terms: str = ""  # the Terms of Use version the school accepted (its documented instructions), or that none is


def terms_accepted_text(acceptance, current) -> str:
    """The Terms of Use a school's processing runs under: the version it accepted last, by whom and
    when, and whether a newer version waits for its acceptance."""
    if acceptance is None:
        return ("No version of the Terms of Use accepted yet" +
                (f" (version {current.version} waits for the school's admin)" if current is not None else ""))
    text = (f"Terms of Use version {acceptance.terms.version}, accepted "
            f"{timezone.localtime(acceptance.accepted_at):%d %B %Y} by {acceptance.user_name}")
    if current is not None and current.pk != acceptance.terms_id:
        text += f" (version {current.version} waits for the school's admin)"
    return text


def processor_records(schools=None) -> Iterator[ProcessorRecord]:
    """One record per client school whose data is still held (public data and the school's name
    only: nothing is read from inside the schools' schemas), naming the version of the Terms of Use
    the school accepted (the documented instructions the vendor processes its data on) and the
    automated processes that read its data, each with its last run there."""
    from shared.audit.selectors import automated_processes_for_schools
    from shared.clients.models import Contract
    from shared.compliance.terms_of_use import terms_accepted_versions, terms_current
    from shared.schools.models import School

    tenant_labels = _tenant_app_labels()
    measures = _measures()
    per_category = [(category, personal_fields(category, app_labels=tenant_labels)) for category in Category]
    per_category = [(category, fields) for category, fields in per_category if fields]
    latest = Contract.objects.filter(school=OuterRef("pk")).order_by("-starts_on", "-id")
    if schools is None:
        schools = School.objects.filter(schema_dropped_at__isnull=True)
    schools = list(schools.annotate(schema_drop_on=Subquery(latest.values("schema_drop_on")[:1])).order_by("name", "pk"))
    automated = automated_processes_for_schools(school_ids=[school.pk for school in schools])
    accepted, current = terms_accepted_versions(schools), terms_current()
    for school in schools:
        terms = terms_accepted_text(accepted.get(school.pk), current)
        basis = f"The school's documented instructions ({terms}); the school is the controller"
        rows = []
        for category, fields in per_category:
            retention = PROCESSOR_RETENTION.get(category) or retention_text(category)
            retention += "; everything in the school's database 6 months after its contract is cancelled"
            if school.schema_drop_on:
                retention += f" (due on {school.schema_drop_on:%d %B %Y})"
            rows.append(Row(
                role="processor", controller=school.name, purpose=PROCESSOR_PURPOSE, notice_data_types=(),
                lawful_basis=basis, category=category,
                data_subjects=PROCESSOR_SUBJECTS.get(category, (S.OTHER,)), personal_data_fields=fields,
                retention=retention, recipients=(f"{school.name} (the controller)", *SUB_PROCESSORS),
                sub_processors=SUB_PROCESSORS, transfers_outside_uk=TRANSFERS, security_measures=measures,
                source="Privacy notice: Data Processing",
            ))
        yield ProcessorRecord(school.pk, school.name, school.get_status_display(), school.schema_drop_on, tuple(rows),
                              tuple(automated[school.pk]), terms=terms)


def record_csv() -> str:
    """The whole record as CSV: the vendor's rows, then each school's, one row per purpose and
    category of data."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(HEADER)
    for row in controller_rows():
        writer.writerow(row.as_csv())
    for record in processor_records():
        for row in record.rows:
            writer.writerow(row.as_csv())
    return out.getvalue()
