"""Writes on users. The caller has already entered the right schema."""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tenants.users.models import User


def user_create(*, email: str, full_name: str = "", role: str = "", password: str | None = None) -> User:
    """Create a user. With no password the account gets an unusable one and signs in only after
    setting a password through a link from ``user_set_password_token``."""
    return User.objects.create_user(email, password, full_name=full_name, role=role)


def user_set_password_token(*, user: User) -> tuple[str, str]:
    """The (uidb64, token) pair of a set-password link. The token stops working once the
    password changes or PASSWORD_RESET_TIMEOUT passes; it is never stored."""
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)
