"""In a real browser: an operator signs in with a one-time code, onboards a school and opens its page.

Playwright drives the machine's Chromium (Debian's package; `.ci/run` installs it). Where there is
no Chromium the test is skipped, saying so. The site runs in a live server thread against the test
database; what the browser creates is committed, so the test removes it afterwards.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from ops.demo import DEMO_OPERATOR_EMAIL, DEMO_PASSWORD
from shared.clients.models import ClientAccount, Complaint, Contact, Contract, Correspondence
from shared.mail.models import OutgoingMessage
from shared.schools.models import Domain, School
from tests.browser_fixtures import needs_chromium
from tests.helpers import committed, current_code

pytestmark = [needs_chromium, pytest.mark.django_db]


@pytest.fixture
def remove_onboarded():
    """Delete, after the test, the school the browser created (the live server committed it)."""
    names = []
    yield names.append
    with committed() as cursor:
        cursor.execute("SELECT id, schema_name FROM schools_school WHERE name = ANY(%s)", [names])
        for school_id, schema_name in cursor.fetchall():
            for model in (Correspondence, Complaint, Contact, Contract, ClientAccount, OutgoingMessage):
                cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE school_id = %s", [school_id])
            cursor.execute(f"DELETE FROM {Domain._meta.db_table} WHERE tenant_id = %s", [school_id])
            cursor.execute(f"DELETE FROM {School._meta.db_table} WHERE id = %s", [school_id])
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')


def test_operator_signs_in_with_a_code_onboards_a_school_and_opens_its_page(site_server, browser, remove_onboarded):
    remove_onboarded("Browser Test Primary")
    page = browser.new_page()
    base = f"http://{site_server}"

    page.goto(f"{base}/console/login/")
    page.fill("#id_username", DEMO_OPERATOR_EMAIL)
    page.fill("#id_password", DEMO_PASSWORD)
    page.fill("#id_otp_token", current_code(DEMO_OPERATOR_EMAIL))
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")
    assert page.locator("h1").inner_text() == "Dashboard"

    page.click("text=Onboard a school")
    page.fill("#id_name", "Browser Test Primary")
    page.fill("#id_subdomain", "browsertest")
    page.fill("#id_admin_email", "head@browsertest.example")
    page.fill("#id_contact_name", "Bo Rowser")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/console/clients/\d+/$"))

    assert page.locator("h1").inner_text() == "Browser Test Primary"
    assert "Invitation sent to head@browsertest.example" in page.locator(".messages").inner_text()
    assert "Bo Rowser" in page.content()
    assert f"browsertest.{settings.BASE_DOMAIN}" in page.content()
