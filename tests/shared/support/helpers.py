"""Helpers for the support-access tests: the demo support operator, each school's admin, and
requests made and decided through the services, as the console and the school's site make them."""

from __future__ import annotations

from django_tenants.utils import schema_context

from ops.demo import DEMO_OPERATORS
from shared.audit.models import ChangeLogEntry
from shared.operators.models import Operator
from shared.support import services
from shared.support.models import SupportAccessLog, SupportAccessRequest
from tenants.pupils.models import Pupil
from tenants.users.models import User


def support_operator() -> Operator:
    return Operator.objects.get(user__email=DEMO_OPERATORS[Operator.Role.SUPPORT][0])


def school_user(seeded, email: str) -> User:
    with schema_context(seeded.school.schema_name):
        return User.objects.get(email=email)


def ask(operator, seeded, **overrides) -> SupportAccessRequest:
    fields = {"ticket_reference": "T-1001", "reason": "Marksheet totals look wrong", "duration_hours": 4}
    with schema_context("public"):  # as the console asks (a school-site request may have left the test elsewhere)
        return services.support_request_create(operator=operator, school=seeded.school, **{**fields, **overrides})


def decide(seeded, service, access_request, **kwargs) -> SupportAccessRequest:
    """Run a school admin's decision as the school's site does: inside the school's schema."""
    head = school_user(seeded, seeded.demo.head_email)
    with schema_context(seeded.school.schema_name):
        return service(user=head, access_request=access_request, **kwargs)


def approve(seeded, access_request) -> SupportAccessRequest:
    return decide(seeded, services.support_request_approve, access_request)


def first_pupil(seeded) -> Pupil:
    with schema_context(seeded.school.schema_name):
        return Pupil.objects.filter(on_roll=True).order_by("surname", "forename", "id").first()


def snapshot() -> tuple:
    """Everything a refused attempt must leave as it was (the log aside)."""
    with schema_context("public"):
        return (list(SupportAccessRequest.objects.order_by("pk").values()), ChangeLogEntry.objects.count())


def log_rows() -> list[tuple]:
    with schema_context("public"):
        return list(SupportAccessLog.objects.order_by("pk").values_list("operator_id", "school_id", "grant_id", "path",
                                                                        "outcome", "refusal_reason"))
