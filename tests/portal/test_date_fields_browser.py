"""In Chromium: the date fields of the school site's rights and consents forms, and of the console's
subject-request form, show their dates (initial values, and what was typed when a submit fails), and
a date picked in the field is what the form receives."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context

from ops.demo import DEMO_OPERATOR_EMAIL, DEMO_PASSWORD
from shared import clock
from tenants.pupils.models import Pupil
from tenants.rights.models import Consent, SchoolRequest
from tests.browser_fixtures import needs_chromium
from tests.helpers import committed, current_code

pytestmark = [needs_chromium, pytest.mark.django_db]


def head_signed_in(browser, base, school):
    page = browser.new_context().new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", school.demo.head_email)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/accounts/login/code/")
    with schema_context(school.school.schema_name):
        page.fill("#id_code", current_code(school.demo.head_email))
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def operator_signed_in(browser, base):
    page = browser.new_context().new_page()
    page.goto(f"{base}/console/login/")
    page.fill("#id_username", DEMO_OPERATOR_EMAIL)
    page.fill("#id_password", DEMO_PASSWORD)
    page.fill("#id_otp_token", current_code(DEMO_OPERATOR_EMAIL))
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")
    return page


def test_the_school_sites_rights_and_consents_date_fields_show_and_keep_their_dates(site_server, browser, oakfield):
    port = site_server.rsplit(":", 1)[1]
    base = f"http://{oakfield.hostname}:{port}"
    today = clock.today().isoformat()
    with schema_context(oakfield.school.schema_name):
        before = (SchoolRequest.objects.count(), Consent.objects.count())
    page = head_signed_in(browser, base, oakfield)

    for path, fill in (("/rights/", {"#id_requester_name": "A. Parent"}), ("/rights/consents/", {"#id_purpose": "Photos"})):
        page.goto(f"{base}{path}")
        field = page.locator("input[type=date]")
        assert field.count() == 1
        assert field.input_value() == today, path  # the initial value is shown, not blank
        # a submit the server refuses (a date before 1990) shows back the date typed, and says why
        page.locator("#id_subject").select_option(index=1)
        for selector, value in fill.items():
            page.fill(selector, value)
        field.fill("1985-03-14")
        page.click("form:has(input[type=date]) button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("input[type=date]").input_value() == "1985-03-14", path
        assert "Enter a date between 1 January 1990 and today." in page.locator(".field-error").inner_text()

    with schema_context(oakfield.school.schema_name):
        assert (SchoolRequest.objects.count(), Consent.objects.count()) == before  # refusals wrote nothing


def test_a_recorded_requests_extend_form_shows_a_blank_date_field(site_server, browser, oakfield):
    """A request recorded in the browser: its page's date field (when the person was told of an
    extension) starts blank, a date Chromium can take."""
    port = site_server.rsplit(":", 1)[1]
    base = f"http://{oakfield.hostname}:{port}"
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.filter(date_of_birth__isnull=False).order_by("pk").first()
    page = head_signed_in(browser, base, oakfield)
    try:
        page.goto(f"{base}/rights/")
        page.locator("#id_kind").select_option("correction")
        page.locator("#id_subject").select_option(f"pupil:{pupil.pk}")
        page.fill("#id_requester_name", "Browser Date Test")
        page.click("form:has(input[type=date]) button[type=submit]")
        page.wait_for_url(re.compile(r"/rights/\d+/$"))
        page.locator("summary", has_text="Extend").click()
        assert page.locator("#id_told_on").input_value() == ""  # no initial: blank, not a garbled date
    finally:
        with committed(oakfield.school.schema_name) as cursor:
            cursor.execute(f"DELETE FROM {SchoolRequest._meta.db_table} WHERE requester_name = %s", ["Browser Date Test"])


def test_the_consoles_request_form_date_field_shows_and_keeps_its_date(site_server, browser):
    base = f"http://{site_server}"
    page = operator_signed_in(browser, base)
    page.goto(f"{base}/console/requests/")
    field = page.locator("form input[type=date]").first
    assert field.input_value() == clock.today().isoformat()
    field.fill("1985-03-14")
    page.evaluate("document.querySelectorAll('form').forEach(f => { f.noValidate = true; })")  # the server refuses
    page.click("form:has(input[type=date]) button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("form input[type=date]").first.input_value() == "1985-03-14"
    assert "Enter a date between 1 January 1990 and today." in page.locator("form .field-error").all_inner_texts()


def test_a_correction_forms_date_of_birth_starts_at_the_date_held_in_iso(oakfield):
    """What the browser is given for the correction form's date of birth: the ISO date a date field
    shows (a UK-format value would show blank)."""
    from tests.helpers import school_client

    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.filter(date_of_birth__isnull=False).order_by("pk").first()
        request = SchoolRequest.objects.create(kind="correction", requester_name="A. Parent", received_on=clock.today(),
                                               state="in_progress", pupil=pupil)

    page = school_client(oakfield, oakfield.demo.head_email).get(f"/rights/{request.pk}/").content.decode()

    assert (f'<input type="date" name="date_of_birth" value="{pupil.date_of_birth.isoformat()}"' in page), \
        re.findall(r'<input[^>]*date_of_birth[^>]*>', page)
