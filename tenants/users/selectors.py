"""Reads on users, inside the current schema."""

from __future__ import annotations

from django.db.models import QuerySet
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.configuration.models import SignInPolicy
from tenants.users.models import User


def user_list() -> QuerySet[User]:
    """The users of the current schema, for listing."""
    return User.objects.only("id", "email", "full_name", "role", "is_active", "last_login").order_by("email")


def second_factor_device(*, user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if they have turned the second factor on."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def second_factor_required(*, user: User) -> bool:
    """Whether this school user must sign in with a code: every school admin; teachers too when a
    school admin has required it for all staff. Parents and pupils only if they chose to."""
    if user.role == User.Role.SCHOOL_ADMIN:
        return True
    if user.role == User.Role.TEACHER:
        return SignInPolicy.objects.filter(staff_second_factor_required=True).exists()
    return False


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
