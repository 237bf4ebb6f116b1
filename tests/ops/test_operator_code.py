"""The development command that prints a demo account's current one-time code."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from ops.demo import DEMO_OPERATOR_EMAIL
from tests.helpers import current_code

pytestmark = pytest.mark.django_db


def test_it_prints_an_operators_code_and_a_school_admins(oakfield, capsys):
    call_command("operator_code", DEMO_OPERATOR_EMAIL)
    operator_line = capsys.readouterr().out.splitlines()[0]
    call_command("operator_code", oakfield.demo.head_email.upper(), school="oakfield")
    head_lines = capsys.readouterr().out.splitlines()

    with schema_context(oakfield.school.schema_name):
        head_code = current_code(oakfield.demo.head_email)
    assert operator_line == current_code(DEMO_OPERATOR_EMAIL)
    assert head_lines[0] == head_code
    assert head_lines[1].startswith("authenticator link: otpauth://totp/")


def test_it_refuses_an_unknown_school_or_a_user_without_a_device(oakfield):
    with pytest.raises(CommandError, match="no school has the subdomain 'nowhere'"):
        call_command("operator_code", oakfield.demo.head_email, school="nowhere")
    with pytest.raises(CommandError, match="no user of oakfield with an authenticator"):
        call_command("operator_code", oakfield.demo.teacher_email, school="oakfield")
