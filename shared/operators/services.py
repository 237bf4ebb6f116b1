"""Writes on operators. Runs in the ``public`` schema."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import get_public_schema_name

from shared.operators.models import Operator


@transaction.atomic
def operator_create(*, email: str, full_name: str, role: str, password: str | None = None) -> tuple[Operator, TOTPDevice]:
    """Create a vendor operator account with a console role and its authenticator (TOTP) device.
    Returns both; the device's ``config_url`` (an otpauth:// URI) is what the operator's
    authenticator app is set up with."""
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError("operators live in the public schema")
    if role not in Operator.Role.values:
        raise ValueError(f"unknown operator role {role!r}; choose one of {', '.join(Operator.Role.values)}")
    # Operators' accounts are the project's user model, in public (``tenants.users`` is migrated there too).
    user = get_user_model().objects.create_user(email, password, full_name=full_name)
    operator = Operator.objects.create(user=user, role=role)
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return operator, device
