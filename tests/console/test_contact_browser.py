"""In a real browser: a person makes a request on the public request page, confirms it by the link
mailed to them (read from the test SMTP server), and it shows in the right list: the console's
Requests for the vendor's records, the school's Requests for a school's data. (Playwright on
Debian's Chromium; skipped, saying why, without it.) The live server commits what the browser does;
the test removes it afterwards."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django_tenants.utils import schema_context

from ops.demo import DEMO_OPERATORS, DEMO_PASSWORD
from shared.audit.models import ChangeLogEntry
from shared.mail.models import OutgoingMessage
from shared.operators.models import Operator
from shared.privacy.models import SubjectRequest
from tenants.rights.models import SchoolRequest
from tests.browser_fixtures import needs_chromium
from tests.helpers import committed, current_code
from tests.mail_fixtures import mail_deliver_all

pytestmark = [needs_chromium, pytest.mark.django_db]


@pytest.fixture
def requester(oakfield):
    """The person's address; afterwards, everything the live server committed for it is removed."""
    cache.clear()
    email = "browser.parent@home.example"
    yield email
    cache.clear()
    with committed(oakfield.school.schema_name) as cursor:
        cursor.execute(f"SELECT id FROM {SchoolRequest._meta.db_table} WHERE requester_email = %s", [email])
        school_ids = [str(row[0]) for row in cursor.fetchall()]
        cursor.execute(f"DELETE FROM {SchoolRequest._meta.db_table} WHERE requester_email = %s", [email])
    with committed() as cursor:
        cursor.execute(f"SELECT id FROM {SubjectRequest._meta.db_table} WHERE requester_email = %s", [email])
        vendor_ids = [str(row[0]) for row in cursor.fetchall()]
        cursor.execute(f"DELETE FROM {ChangeLogEntry._meta.db_table} WHERE (object_type = 'privacy.subjectrequest' "
                       "AND object_id = ANY(%s)) OR (object_type = 'rights.schoolrequest' AND object_schema = %s "
                       "AND object_id = ANY(%s))", [vendor_ids, oakfield.school.schema_name, school_ids])
        cursor.execute(f"DELETE FROM {SubjectRequest._meta.db_table} WHERE requester_email = %s", [email])
        cursor.execute(f"DELETE FROM {OutgoingMessage._meta.db_table} WHERE \"to\" = %s", [email])


def deliver_committed() -> None:
    """Deliver the queued mail the live server committed, on a connection of its own (as the worker
    would), so that the test's transaction holds no lock on those rows."""
    def run():
        try:
            mail_deliver_all()
        finally:
            connection.close()
    worker = threading.Thread(target=run)
    worker.start()
    worker.join(30)


def mailed_path(smtp, to: str) -> str:
    deliver_committed()
    message = next(m for m in reversed(smtp.messages) if m["To"] == to and "Confirm" in m["Subject"])
    [link] = [url for url in smtp.links(message) if "/contact/confirm/" in url]
    return urlsplit(link).path


def make_request(page, base: str, email: str, about: str, details: str) -> None:
    page.goto(f"{base}/privacy/")
    page.click("main a:has-text('our contact page')")  # the notice links to the page
    page.select_option("#id_kind", "access")
    page.select_option("#id_about", about)
    page.fill("#id_name", "Bea Parent")
    page.fill("#id_email", email)
    page.fill("#id_details", details)
    page.click("button:has-text('Send')")
    page.wait_for_load_state()
    assert "Check your email" in page.locator("h1").inner_text()


def test_a_request_about_the_vendors_records_is_confirmed_by_mail_and_shows_in_the_console(
        site_server, browser, smtp, requester):
    base = f"http://{site_server}"
    page = browser.new_page()
    make_request(page, base, requester, "vendor", "Everything you hold about me, please.")
    assert not SubjectRequest.objects.filter(requester_email=requester).exists()  # nothing before confirmation

    page.goto(base + mailed_path(smtp, requester))
    page.click("text=Confirm and send my request")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Request received"

    email = DEMO_OPERATORS[Operator.Role.DPO][0]
    page.goto(f"{base}/console/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEMO_PASSWORD)
    page.fill("#id_otp_token", current_code(email))
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")
    page.goto(f"{base}/console/requests/")
    assert "Bea Parent" in page.content()


def test_a_request_about_a_schools_data_is_confirmed_by_mail_and_shows_in_the_schools_requests(
        site_server, browser, smtp, requester, oakfield, password):
    base = f"http://{site_server}"
    page = browser.new_page()
    make_request(page, base, requester, str(oakfield.school.pk), "My son's reports at Oakfield, please.")
    page.goto(base + mailed_path(smtp, requester))
    page.click("text=Confirm and send my request")
    page.wait_for_load_state()
    assert oakfield.school.name in page.locator("main").inner_text()

    port = site_server.rsplit(":", 1)[1]
    school = f"http://{oakfield.hostname}:{port}"
    page.goto(f"{school}/accounts/login/")
    page.fill("#id_username", oakfield.demo.head_email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if "/accounts/login/code/" in page.url:
        with schema_context(oakfield.school.schema_name):
            code = current_code(oakfield.demo.head_email)
        page.fill("input[name=code]", code)
        page.click("button[type=submit]")
        page.wait_for_load_state()
    page.goto(f"{school}/rights/")
    assert "Bea Parent" in page.content()
