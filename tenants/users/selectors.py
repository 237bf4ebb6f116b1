"""Reads on users, inside the current schema."""

from __future__ import annotations

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Q, QuerySet
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.users.models import User


def user_list() -> QuerySet[User]:
    """The users of the current schema, for listing; ``invitation_pending``: no password set yet."""
    return (User.objects.only("id", "email", "full_name", "role", "is_active", "last_login")
            .annotate(invitation_pending=Q(password__startswith=UNUSABLE_PASSWORD_PREFIX)).order_by("email"))


def second_factor_device(*, user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if they have turned the second factor on."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def school_admin_addresses() -> list[str]:
    """The email addresses of the current school's active admins (the people told of support access
    and of the school's overdue requests), in order."""
    return list(User.objects.filter(role=User.Role.SCHOOL_ADMIN, is_active=True).exclude(email="")
                .order_by("email").values_list("email", flat=True))
