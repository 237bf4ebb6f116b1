"""In a real browser: an operator signs in with a one-time code, onboards a school and opens its page.

Playwright drives the machine's Chromium (Debian's package; `.ci/run` installs it). Where there is
no Chromium the test is skipped, saying so. The site runs in a live server thread against the test
database; what the browser creates is committed, so the test removes it afterwards.
"""

from __future__ import annotations

import re
import shutil

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test.testcases import LiveServerThread, _StaticFilesHandler

from ops.demo import DEMO_OPERATOR_EMAIL, DEMO_PASSWORD
from shared.clients.models import ClientAccount, Complaint, Contact, Contract, Correspondence
from shared.schools.models import Domain, School
from tests.helpers import current_code

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install chromium; CI installs it)"),
    pytest.mark.django_db,
]


@pytest.fixture
def site_server(django_db_blocker):
    # Request threads then close their connections when each request ends, so none outlives the test.
    database = connections.settings["default"]
    kept_max_age, database["CONN_MAX_AGE"] = database["CONN_MAX_AGE"], 0
    with django_db_blocker.unblock():
        thread = LiveServerThread("127.0.0.1", static_handler=_StaticFilesHandler, port=0)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        yield f"{settings.BASE_DOMAIN}:{thread.port}"
        thread.terminate()
        # A server thread can leave its connection idle behind it; the test database is dropped at
        # the end of the session, which PostgreSQL refuses while anyone is connected.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    database["CONN_MAX_AGE"] = kept_max_age


@pytest.fixture
def browser(monkeypatch):
    playwright_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop on this thread; the test's own database calls are
    # still synchronous, which Django's guard cannot tell (the documented switch for this case).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def remove_onboarded(django_db_blocker):
    """Delete, after the test, the school the browser created (it was committed)."""
    names = []
    yield names.append
    with django_db_blocker.unblock():
        for school in School.objects.filter(name__in=names):
            Domain.objects.filter(tenant=school).delete()
            for model in (Correspondence, Complaint, Contact, Contract, ClientAccount):
                model.objects.filter(school=school).delete()
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{school.schema_name}" CASCADE')
            school.delete()


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
    assert "set-password link" in page.locator(".messages").inner_text()
    assert "Bo Rowser" in page.content()
    assert f"browsertest.{settings.BASE_DOMAIN}" in page.content()
