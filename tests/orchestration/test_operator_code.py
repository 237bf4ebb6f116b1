"""The development command that prints a demo account's current one-time code."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from ops.demo import DEMO_OPERATOR_EMAIL

pytestmark = pytest.mark.django_db


def code_now(email: str) -> str:
    """The code the authenticator app shows at this moment (whether or not the device has used it)."""
    device = TOTPDevice.objects.get(user__email=email)
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():0{device.digits}d}"


def test_it_prints_an_operators_code_and_a_school_admins(oakfield, capsys):
    # A 30-second step may end between printing and checking: the code of either side is the app's.
    before = code_now(DEMO_OPERATOR_EMAIL)
    call_command("operator_code", DEMO_OPERATOR_EMAIL)
    operator_line = capsys.readouterr().out.splitlines()[0]
    after = code_now(DEMO_OPERATOR_EMAIL)
    with schema_context(oakfield.school.schema_name):
        head_before = code_now(oakfield.demo.head_email)
    call_command("operator_code", oakfield.demo.head_email.upper(), school="oakfield")
    head_lines = capsys.readouterr().out.splitlines()
    with schema_context(oakfield.school.schema_name):
        head_after = code_now(oakfield.demo.head_email)

    assert operator_line in {before, after}
    assert head_lines[0] in {head_before, head_after}
    assert head_lines[1].startswith("authenticator link: otpauth://totp/")


def test_it_refuses_an_unknown_school_or_a_user_without_a_device(oakfield):
    with pytest.raises(CommandError, match="no school has the subdomain 'nowhere'"):
        call_command("operator_code", oakfield.demo.head_email, school="nowhere")
    with pytest.raises(CommandError, match="no user of oakfield with an authenticator"):
        call_command("operator_code", oakfield.demo.teacher_email, school="oakfield")
