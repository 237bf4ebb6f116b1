"""Reads on a school's configuration: its sign-in policy, its accent colour."""

from __future__ import annotations

from django_tenants.utils import schema_context

from tenants.configuration.models import Branding, SignInPolicy
from tenants.users.models import User


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
