"""The demo: two example schools with staff, and a vendor operator. Idempotent.

``ops/run`` seeds it for people trying the product; the test suite seeds the same two schools once
per session and proves isolation between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django_tenants.utils import schema_context

from shared.operators.models import Operator
from shared.operators.services import operator_create
from shared.schools.models import Domain, School
from shared.schools.selectors import school_hostname
from shared.schools.services import school_provision
from tenants.users.models import User
from tenants.users.services import user_create

DEMO_PASSWORD = "demo-password-1"


@dataclass(frozen=True)
class DemoSchool:
    name: str
    subdomain: str
    head_email: str
    teacher_email: str
    teacher_name: str


DEMO_SCHOOLS = (
    DemoSchool("Oakfield Primary", "oakfield", "head@oakfield.example", "j.patel@oakfield.example", "Jaya Patel"),
    DemoSchool("Riverside Academy", "riverside", "head@riverside.example", "t.okafor@riverside.example", "Tom Okafor"),
)
DEMO_OPERATOR_EMAIL = "operator@pupiltracking.example"


@dataclass(frozen=True)
class SeededSchool:
    demo: DemoSchool
    school: School
    hostname: str


def demo_seed(*, password: str = DEMO_PASSWORD) -> list[SeededSchool]:
    """Create the demo schools (with a head and a teacher each) and the demo operator, where
    missing. Everyone's password is ``password``."""
    seeded = []
    for demo in DEMO_SCHOOLS:
        hostname = school_hostname(subdomain=demo.subdomain)
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        school = domain.tenant if domain else school_provision(
            name=demo.name, subdomain=demo.subdomain, admin_email=demo.head_email
        ).school
        with transaction.atomic(), schema_context(school.schema_name):
            head = User.objects.get(email=demo.head_email)
            if not head.has_usable_password():
                head.full_name = f"Head of {demo.name}"
                head.set_password(password)
                head.save()
            if not User.objects.filter(email=demo.teacher_email).exists():
                user_create(email=demo.teacher_email, full_name=demo.teacher_name,
                            role=User.Role.TEACHER, password=password)
        seeded.append(SeededSchool(demo=demo, school=school, hostname=hostname))
    if not Operator.objects.filter(user__email=DEMO_OPERATOR_EMAIL).exists():
        operator_create(email=DEMO_OPERATOR_EMAIL, full_name="Demo Operator",
                        role=Operator.Role.ADMINISTRATOR, password=password)
    return seeded
