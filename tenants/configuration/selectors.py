"""Reads on a school's configuration: its sign-in policy, its accent colour, its branding as every
page shows it."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import schema_context

from shared.process_cache import ProcessCache
from tenants.configuration.models import Branding, SignInPolicy
from tenants.users.models import User

# Each school's branding as its pages show it (the theme link and the logo), kept in each process
# by schema; invalidated by any write to a Branding (apps.py's signals).
BRANDING = ProcessCache("school-branding", ttl=60.0)
_BRANDING_FIELDS = tuple(field.attname for field in Branding._meta.concrete_fields)


def branding_for_page() -> Branding:
    """The current school's branding (an unsaved default when it has none), for templates: a
    Branding of the caller's own, not to be saved (``services.branding_get`` reads one to change)."""
    values = BRANDING.get(connection.schema_name, lambda: Branding.objects.values_list(*_BRANDING_FIELDS).first())
    return Branding() if values is None else Branding.from_db("default", _BRANDING_FIELDS, values)


def second_factor_required(*, user: User) -> bool:
    """Whether this school user must sign in with a code: every school admin; teachers too when a
    school admin has required it for all staff. Parents and pupils only if they chose to."""
    if user.role == User.Role.SCHOOL_ADMIN:
        return True
    if user.role == User.Role.TEACHER:
        return SignInPolicy.objects.filter(staff_second_factor_required=True).exists()
    return False


def accent_colour(school) -> str | None:
    """The school's accent colour (its Branding, in its own schema), or None when it set none: for
    its mail (installed as ``shared.mail.branding.accent_reader``)."""
    with schema_context(school.schema_name):
        return Branding.objects.values_list("accent_colour", flat=True).first()
