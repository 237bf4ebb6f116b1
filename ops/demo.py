"""The demo: two example schools with staff, the vendor's records about them, and one operator per
console role. Idempotent.

``ops/run`` seeds it for people trying the product; the test suite seeds the same data once per
session and proves isolation between the two schools.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from ops.xporter_fake import FakeSchool, FakeXporter, serve_in_thread
from orchestration.provisioning import client_onboard
from shared import clock
from shared.billing.services import LineInput, invoice_issue
from shared.changes import Actor
from shared.clients.models import Complaint, Correspondence
from shared.clients.services import complaint_record, correspondence_record
from shared.compliance.terms_of_use import terms_accept, terms_current, terms_status
from shared.marketing.models import Prospect
from shared.marketing.services import prospect_create, prospect_object
from shared.operators.models import Operator
from shared.operators.services import operator_create
from shared.schools.models import Domain, School
from shared.schools.selectors import school_hostname
from tenants.assessment import calendar
from tenants.pupils.models import ParentCarer, Pupil
from tenants.users.models import User
from tenants.users.services import user_create
from tenants.xporter.models import XporterConnection
from tenants.xporter.services import xporter_sync

DEMO_PASSWORD = "demo-password-1"


@dataclass(frozen=True)
class DemoSchool:
    name: str
    subdomain: str
    head_email: str
    teacher_email: str
    teacher_name: str
    contact_name: str
    estab: str
    pupils: int

    @property
    def parent_email(self) -> str:
        return f"parent@{self.subdomain}.example"

    @property
    def pupil_email(self) -> str:
        return f"pupil@{self.subdomain}.example"


DEMO_SCHOOLS = (
    DemoSchool("Oakfield Primary", "oakfield", "head@oakfield.example", "j.patel@oakfield.example", "Jaya Patel",
               "Helen Morris", estab="3312001", pupils=60),
    DemoSchool("Riverside Academy", "riverside", "head@riverside.example", "t.okafor@riverside.example", "Tom Okafor",
               "Samir Khan", estab="3312002", pupils=48),
)
DEMO_OPERATORS = {
    Operator.Role.ADMINISTRATOR: ("operator@pupiltracking.example", "Ada Administrator"),
    Operator.Role.SUPPORT: ("support@pupiltracking.example", "Sam Support"),
    Operator.Role.BILLING: ("billing@pupiltracking.example", "Bea Billing"),
    Operator.Role.DPO: ("dpo@pupiltracking.example", "Dan Protection"),
}
DEMO_OPERATOR_EMAIL = DEMO_OPERATORS[Operator.Role.ADMINISTRATOR][0]


@dataclass(frozen=True)
class SeededSchool:
    demo: DemoSchool
    school: School
    hostname: str


def demo_seed(*, password: str = DEMO_PASSWORD) -> list[SeededSchool]:
    """Create what is missing of the demo. Everyone's password is ``password``."""
    for role, (email, name) in DEMO_OPERATORS.items():
        if not Operator.objects.filter(user__email=email).exists():
            operator_create(email=email, full_name=name, role=role, password=password)
    actor = Actor.operator(Operator.objects.get(user__email=DEMO_OPERATOR_EMAIL).user)
    seeded = [_school_seed(demo, actor=actor, password=password) for demo in DEMO_SCHOOLS]
    _prospects_seed(actor)
    return seeded


def _school_seed(demo: DemoSchool, *, actor: Actor, password: str) -> SeededSchool:
    hostname = school_hostname(subdomain=demo.subdomain)
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    if domain is None:
        school = client_onboard(
            actor=actor, name=demo.name, subdomain=demo.subdomain, admin_email=demo.head_email,
            contract_starts_on=dt.date(clock.today().year - 1, 9, 1), contact_name=demo.contact_name,
            contact_role="School business manager", contact_email=f"office@{demo.subdomain}.example",
            contact_phone="01632 960000",
        ).school
        _records_seed(school, actor=actor)
    else:
        school = domain.tenant
    with transaction.atomic(), schema_context(school.schema_name):
        head = User.objects.get(email=demo.head_email)
        if not head.has_usable_password():
            head.full_name = f"Head of {demo.name}"
            head.set_password(password)
            head.save()
        if not TOTPDevice.objects.filter(user=head).exists():
            # A school admin signs in with a code: the demo's has its authenticator already set up.
            TOTPDevice.objects.create(user=head, name="Authenticator app", confirmed=True)
        if not User.objects.filter(email=demo.teacher_email).exists():
            user_create(email=demo.teacher_email, full_name=demo.teacher_name, role=User.Role.TEACHER, password=password)
        current = terms_current()
        if current is not None and terms_status(school_id=school.pk).due:
            # The demo's head accepted the current Terms of Use at onboarding (a real school's admin is
            # asked at their first sign-in).
            terms_accept(user=head, school=school, version_id=current.pk, name=head.full_name, ip_address=None)
    with schema_context(school.schema_name):
        if not Pupil.objects.exists():
            _pupils_import(demo)
            _family_accounts_seed(demo, password=password)
    return SeededSchool(demo=demo, school=school, hostname=hostname)


def result_dates_on_calendar(today: dt.date) -> list[dt.date]:
    """The days a school's results are recorded on, as a school records them: each assessment point
    of its calendar up to today, and the point being collected now a week ago. Run inside the
    school's schema (its calendar is made here if it has none)."""
    calendar.calendar_ensure(today)
    windows = calendar.windows()
    dates = [w.point.date for w in windows if w.point.date <= today]
    current = next((w for w in windows if w.point.date > today), None)
    if current is not None and current.holds(today - dt.timedelta(days=7)):
        dates.append(today - dt.timedelta(days=7))
    return dates


def demo_xporter(demo: DemoSchool) -> FakeSchool:
    """The demo school's data as the fake Xporter serves it (deterministic for a given day): results
    at each assessment point of its calendar up to today (the point being collected now: a week
    ago), targets due at the current school year's last point. Run inside the school's schema."""
    today = clock.today()
    dates = result_dates_on_calendar(today)
    windows = calendar.windows()
    current = next((w for w in windows if w.point.date > today), None)
    # targets are due at the end of the school year being assessed now
    year = calendar.school_year(current.point.date if current else today)
    this_year = [w.point.date for w in windows if calendar.school_year(w.point.date) == year]
    return FakeSchool(estab=demo.estab, pupils=demo.pupils, contacts_per_pupil=2, seed=int(demo.estab),
                      result_dates=tuple(dates[-5:]), target_on=max(this_year, default=today),
                      teacher_emails=(demo.teacher_email, "", ""))  # a third of the groups


def _pupils_import(demo: DemoSchool) -> None:
    """Fill the school through the fake Xporter, as a real school is filled, then switch the
    connection off: the fake goes away after seeding, and the imported data stays."""
    fake = demo_xporter(demo)
    base_url, server = serve_in_thread(FakeXporter([fake]))
    try:
        XporterConnection.objects.create(base_url=base_url, estab=demo.estab, relying_party="pupiltracking-demo",
                                         password=fake.password, third_party_id="demo")
        xporter_sync()
    finally:
        server.shutdown()
    XporterConnection.objects.update(enabled=False)


def _family_accounts_seed(demo: DemoSchool, *, password: str) -> None:
    """A parent account for the first pupil's first parent, and a pupil account for that pupil."""
    pupil = Pupil.objects.order_by("pk").first()
    link = pupil.parent_links.select_related("parent").first()
    parent_user = user_create(email=demo.parent_email, full_name=str(link.parent), role=User.Role.PARENT,
                              password=password)
    ParentCarer.objects.filter(pk=link.parent_id).update(user=parent_user)
    pupil_user = user_create(email=demo.pupil_email, full_name=str(pupil), role=User.Role.PUPIL, password=password)
    Pupil.objects.filter(pk=pupil.pk).update(user=pupil_user)


def _records_seed(school: School, *, actor: Actor) -> None:
    today = clock.today()
    contact = school.contacts.first()
    invoice_issue(actor=actor, school=school, issued_on=today - dt.timedelta(days=60), due_on=today - dt.timedelta(days=30),
                  lines=[LineInput("Pupil tracking subscription, autumn term", Decimal("1"), Decimal("1250.00"))])
    invoice_issue(actor=actor, school=school, issued_on=today, due_on=clock.add_months(today, 1),
                  lines=[LineInput("Pupil tracking subscription, spring term", Decimal("1"), Decimal("1250.00")),
                         LineInput("Staff training session", Decimal("2"), Decimal("180.00"))])
    correspondence_record(actor=actor, school=school, contact=contact, direction=Correspondence.Direction.INBOUND,
                          channel=Correspondence.Channel.EMAIL, subject="Question about the spring data drop",
                          body="When will the new assessment aspects be available?")
    complaint_record(actor=actor, school=school, contact=contact, kind=Complaint.Kind.PROBLEM,
                     summary="Marksheet slow to save for Year 6")


def _prospects_seed(actor: Actor) -> None:
    if Prospect.objects.exists():
        return
    prospect_create(actor=actor, full_name="Grace Lee", organisation="Hillside Junior School", role="Deputy head",
                    email="g.lee@hillside.example")
    objector = prospect_create(actor=actor, full_name="Peter Hughes", organisation="Meadow Trust",
                               role="Trust business lead", email="p.hughes@meadow.example")
    prospect_object(actor=actor, prospect=objector)
