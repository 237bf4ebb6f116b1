"""Signing a school up: its public rows (the school, its domain, the vendor's client records) and
its own schema (claimed from the spare pool, or migrated) with its first school admin, all or nothing."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass

import structlog
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django_tenants.utils import schema_context

from orchestration import pool
from shared.changes import Actor
from shared.clients.services import client_contract_dates_check, client_records_create
from shared.schools.models import Domain, School
from shared.schools.selectors import school_hostname, site_url
from tenants.users.mail import invitation_send
from tenants.users.models import User
from tenants.users.services import user_create, user_set_password_token

log = structlog.get_logger(__name__)

RESERVED_SUBDOMAINS = frozenset({"www", "console", "admin", "api", "public", "static"})
RESERVED_PREFIXES = ("pg_",)
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class ProvisioningRefused(ValueError):
    """Bad input for provisioning. The message is one line, fit to show as it is; ``field`` names
    the input it is about (name, subdomain or admin_email)."""

    def __init__(self, message: str, *, field: str = "subdomain"):
        super().__init__(message)
        self.field = field


class ProvisioningFailed(RuntimeError):
    """Provisioning hit a fault of the system (not of its input); nothing was created."""


@dataclass(frozen=True)
class ProvisionedSchool:
    school: School
    hostname: str
    admin_email: str
    set_password_url: str
    from_pool: bool
    seconds: float


def subdomain_normalise(raw: str) -> str:
    """The subdomain as stored (lower case), or ProvisioningRefused saying what is wrong."""
    subdomain = raw.strip().lower()
    if not subdomain:
        raise ProvisioningRefused("the subdomain is empty")
    if subdomain in RESERVED_SUBDOMAINS or subdomain.startswith(RESERVED_PREFIXES):
        raise ProvisioningRefused(f"the subdomain {subdomain!r} is reserved")
    if not _DNS_LABEL.match(subdomain):
        raise ProvisioningRefused(
            f"the subdomain {raw.strip()!r} is not a DNS label: use 1 to 63 letters, digits and "
            "hyphens, not starting or ending with a hyphen"
        )
    return subdomain


def _school_name_normalise(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise ProvisioningRefused("the school's name is empty", field="name")
    if len(name) > School._meta.get_field("name").max_length:
        raise ProvisioningRefused("the school's name is longer than 200 characters", field="name")
    return name


def _email_normalise(raw: str) -> str:
    email = raw.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ProvisioningRefused(f"{raw.strip()!r} is not an email address", field="admin_email") from None
    return email


def school_provision(*, name: str, subdomain: str, admin_email: str) -> ProvisionedSchool:
    """Sign a school up: its row, its domain, its schema (claimed from the spare pool) and its
    first school-admin user, all in one transaction. Returns the admin's set-password link, which
    is shown once and never stored. Bad input raises ProvisioningRefused and creates nothing."""
    started = time.perf_counter()
    name = _school_name_normalise(name)
    subdomain = subdomain_normalise(subdomain)
    admin_email = _email_normalise(admin_email)
    hostname = school_hostname(subdomain=subdomain)

    try:
        with transaction.atomic():
            if Domain.objects.filter(domain__iexact=hostname).exists():
                raise ProvisioningRefused(f"the subdomain {subdomain!r} is already taken")
            schema_name = pool.spare_claim()
            from_pool = schema_name is not None
            if schema_name is None:
                schema_name = pool.schema_build()
            # A claimed spare and a built schema are both at the code's migration state.
            school = School.objects.create(schema_name=schema_name, name=name,
                                           migration_fingerprint=pool.migration_fingerprint())
            # One INSERT: DomainMixin.save would also take a savepoint, look for another primary
            # domain and clear it, none of which a school made a moment ago has. On Citus each of
            # those is a round trip to every node (the domains are a reference table).
            Domain.objects.bulk_create([Domain(domain=hostname, tenant=school, is_primary=True)])
            with schema_context(schema_name):
                admin = user_create(email=admin_email, role=User.Role.SCHOOL_ADMIN)
                uidb64, token = user_set_password_token(user=admin)
            transaction.on_commit(_pool_refill_later)
    except IntegrityError as error:
        if Domain.objects.filter(domain__iexact=hostname).exists():
            # Two sign-ups raced for the same subdomain; the unique index let only one through.
            raise ProvisioningRefused(f"the subdomain {subdomain!r} is already taken") from None
        # Anything else is a fault to fix, not the operator's input (a sequence behind its table's
        # ids, say): report it as it is. Names only, no values (a key's detail can hold an email).
        diag = getattr(error.__cause__, "diag", None)
        table, constraint = getattr(diag, "table_name", None), getattr(diag, "constraint_name", None)
        log.error("school.provision_failed", table=table, constraint=constraint)
        raise ProvisioningFailed(
            f"sign-up failed on an unexpected integrity error (table {table}, constraint {constraint}); "
            "nothing was created") from error

    seconds = time.perf_counter() - started
    log.info("school.provisioned", school_id=school.pk, schema=schema_name, from_pool=from_pool,
             ms=round(seconds * 1000, 1))
    path = reverse("set_password", urlconf="config.urls_tenants", kwargs={"uidb64": uidb64, "token": token})
    return ProvisionedSchool(
        school=school,
        hostname=hostname,
        admin_email=admin_email,
        set_password_url=site_url(hostname, path),
        from_pool=from_pool,
        seconds=seconds,
    )


def _pool_refill_later() -> None:
    from orchestration.tasks import pool_top_up

    pool_top_up.send()


@transaction.atomic
def client_onboard(*, actor: Actor, name: str, subdomain: str, admin_email: str, contract_starts_on: dt.date,
                   contract_ends_on: dt.date | None = None, contact_name: str = "", contact_role: str = "",
                   contact_email: str = "", contact_phone: str = "") -> ProvisionedSchool:
    """Sign a school up: provision its site and schema, and record its contract, its main contact
    and its first log-in account, all or nothing."""
    client_contract_dates_check(starts_on=contract_starts_on, ends_on=contract_ends_on)
    try:
        provisioned = school_provision(name=name, subdomain=subdomain, admin_email=admin_email)
    except ProvisioningRefused as refusal:
        raise ValidationError({refusal.field: str(refusal)[0].upper() + str(refusal)[1:] + "."}) from None
    client_records_create(actor=actor, school=provisioned.school, admin_email=provisioned.admin_email,
                          contract_starts_on=contract_starts_on, contract_ends_on=contract_ends_on,
                          contact_name=contact_name, contact_role=contact_role, contact_email=contact_email,
                          contact_phone=contact_phone)
    return provisioned


def first_admin_invite(done: ProvisionedSchool) -> None:
    """Mail a newly provisioned school's first admin their invitation, from the school's host and
    with its name (the set-password link is never shown on screen)."""
    with schema_context(done.school.schema_name):
        invitation_send(user=User.objects.get(email=done.admin_email))
