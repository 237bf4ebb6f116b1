"""In a real browser: an operator asks Oakfield for support access in the console, the school's
admin approves it on the school's site, the operator reads a pupil's page, and once the clock
passes the grant's expiry the same page is refused and the school sees the refusal in its log.
(Playwright on Debian's Chromium; skipped, saying why, without it.)"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django_tenants.utils import schema_context

from ops.demo import DEMO_OPERATORS, DEMO_PASSWORD
from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.mail.models import OutgoingMessage
from shared.operators.models import Operator
from shared.support.models import SupportAccessLog, SupportAccessRequest
from tests.browser_fixtures import needs_chromium
from tests.helpers import committed, current_code
from tests.shared.support.helpers import first_pupil

pytestmark = [needs_chromium, pytest.mark.django_db]
TICKET = "BROWSER-SUPPORT-1"
OPERATOR_EMAIL = DEMO_OPERATORS[Operator.Role.SUPPORT][0]


def _remove_committed():
    with committed() as cursor:
        cursor.execute(f"SELECT id FROM {SupportAccessRequest._meta.db_table} WHERE ticket_reference = %s", [TICKET])
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"DELETE FROM {SupportAccessLog._meta.db_table} WHERE grant_id = ANY(%s)", [ids])
        cursor.execute(f"DELETE FROM {ChangeLogEntry._meta.db_table} WHERE object_type = %s AND object_id = ANY(%s)",
                       ["support.supportaccessrequest", [str(i) for i in ids]])
        cursor.execute(f"DELETE FROM {SupportAccessRequest._meta.db_table} WHERE id = ANY(%s)", [ids])
        # the mail telling the school's admins (it names the ticket)
        cursor.execute(f"DELETE FROM {OutgoingMessage._meta.db_table} WHERE template LIKE 'support/%%' AND body_text LIKE %s",
                       [f"%{TICKET}%"])


@pytest.fixture
def remove_support_records():
    """What the browser made went through the live server, so it is committed: take it away."""
    _remove_committed()
    yield
    _remove_committed()


def test_the_school_approves_the_operator_reads_and_after_expiry_is_refused(site_server, browser, oakfield,
                                                                             monkeypatch, remove_support_records):
    port = site_server.rsplit(":", 1)[1]
    console, school_site = f"http://{site_server}", f"http://{oakfield.hostname}:{port}"
    pupil = first_pupil(oakfield)

    operator = browser.new_context().new_page()
    operator.goto(f"{console}/console/login/")
    operator.fill("#id_username", OPERATOR_EMAIL)
    operator.fill("#id_password", DEMO_PASSWORD)
    operator.fill("#id_otp_token", current_code(OPERATOR_EMAIL))
    operator.click("button[type=submit]")
    operator.wait_for_url(f"{console}/console/")
    operator.goto(f"{console}/console/clients/{oakfield.school.pk}/")
    operator.click("text=Request support access")
    operator.fill("#support_ticket_reference", TICKET)
    operator.fill("#support_reason", "The head says the maths chart is blank")
    operator.fill("#support_duration_hours", "2")
    operator.click("#support-access button[type=submit]")
    operator.wait_for_url(f"{console}/console/clients/{oakfield.school.pk}/")
    assert "Waiting for the school" in operator.locator("#support-access").inner_text()
    assert operator.goto(f"{console}/console/support/clients/{oakfield.school.pk}/pupils/").status == 403

    head = browser.new_context().new_page()  # a browser of its own: the school's admin, elsewhere
    head.goto(f"{school_site}/accounts/login/")
    head.fill("#id_username", oakfield.demo.head_email)
    head.fill("#id_password", DEMO_PASSWORD)
    head.click("button[type=submit]")
    head.wait_for_url(f"{school_site}/accounts/login/code/")
    with schema_context(oakfield.school.schema_name):
        head.fill("#id_code", current_code(oakfield.demo.head_email))
    head.click("button[type=submit]")
    head.wait_for_load_state()
    head.click("nav >> text=Support access")
    head.wait_for_url(f"{school_site}/support/")
    assert "The head says the maths chart is blank" in head.locator("#pending").inner_text()
    head.click("#pending >> text=Approve")
    head.wait_for_url(f"{school_site}/support/")
    assert "Approved" in head.locator(".messages").inner_text()
    assert TICKET in head.locator("#current").inner_text()

    operator.goto(f"{console}/console/support/")
    operator.click(f"tr:has-text('{TICKET}') >> text=Open pupils")
    operator.wait_for_url(re.compile(r"/console/support/clients/\d+/pupils/$"))
    operator.click(f"text={pupil.surname}, {pupil.forename}")
    operator.wait_for_url(f"{console}/console/support/clients/{oakfield.school.pk}/pupils/{pupil.pk}/")
    assert operator.locator("h1").inner_text() == f"{pupil.forename} {pupil.surname}"
    assert "Read-only support access" in operator.locator(".support-banner").inner_text()

    later = clock.now() + dt.timedelta(hours=2, minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)  # the live server runs in this process: it moves too
    refused = operator.goto(operator.url)

    assert refused.status == 403
    assert "expired" in operator.content()
    assert pupil.surname not in operator.content()
    head.goto(f"{school_site}/support/")
    log = head.locator("#log tbody tr")
    # newest first: the page after expiry (refused), the pupil's page and the list (allowed), the list
    # while the request waited (refused)
    assert log.count() == 4
    assert "Waiting" not in log.nth(3).inner_text() and "Request not yet approved" in log.nth(3).inner_text()
    assert "Refused" in log.nth(0).inner_text() and "Grant expired" in log.nth(0).inner_text()
    assert f"Pupil page: {pupil}" in log.nth(0).inner_text() and "Sam Support" in log.nth(0).inner_text()
    assert TICKET in head.locator("#earlier").inner_text()
