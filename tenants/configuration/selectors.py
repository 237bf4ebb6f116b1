"""Reads on a school's configuration: its sign-in policy."""

from __future__ import annotations

from tenants.configuration.models import SignInPolicy
from tenants.users.models import User


def second_factor_required(*, user: User) -> bool:
    """Whether this school user must sign in with a code: every school admin; teachers too when a
    school admin has required it for all staff. Parents and pupils only if they chose to."""
    if user.role == User.Role.SCHOOL_ADMIN:
        return True
    if user.role == User.Role.TEACHER:
        return SignInPolicy.objects.filter(staff_second_factor_required=True).exists()
    return False
