"""In Chromium: the marksheet's copy-down (the button and Ctrl+D) and keyboard entry, and the new
assessment pages (marksheet, calendar, results upload, pupil list) at 1366 px and 375 px with
nothing widening the page and no console error."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenants.pupils.models import Group
from tests.browser_fixtures import needs_chromium
from tests.helpers import current_code

pytestmark = [needs_chromium, pytest.mark.django_db]


def sign_in(page, base, school, email, password):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if "/accounts/login/code/" in page.url:
        with schema_context(school.school.schema_name):
            code = current_code(email)
        page.fill("#id_code", code)
        page.click("button[type=submit]")
        page.wait_for_load_state()
    assert "/accounts/login/" not in page.url


def test_copy_down_fills_the_empty_grades_and_ctrl_d_copies_the_row_above(site_server, browser, oakfield, password):
    port = site_server.rsplit(":", 1)[1]
    base = f"http://{oakfield.hostname}:{port}"
    with schema_context(oakfield.school.schema_name):
        group = Group.objects.filter(staff__email=oakfield.demo.teacher_email).order_by("pk").first()
    page = browser.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, base, oakfield, oakfield.demo.teacher_email, password)
    page.goto(f"{base}/groups/{group.pk}/marksheet/")
    selects = page.locator("form.marksheet select[data-grade]")
    count = selects.count()
    assert count >= 3
    for index in range(count):  # start from an empty sheet (nothing is saved)
        selects.nth(index).select_option("")
    first_value = selects.first.locator("option").nth(2).get_attribute("value")
    selects.first.select_option(first_value)
    selects.nth(2).select_option(selects.first.locator("option").nth(4).get_attribute("value"))

    page.click("[data-copy-down]")

    values = [selects.nth(i).input_value() for i in range(count)]
    assert values[1] == first_value and values[3:] == [first_value] * (count - 3)
    assert values[2] != first_value  # an entry already made is kept
    selects.nth(1).focus()
    page.keyboard.press("Tab")  # Tab moves down the column
    page.keyboard.press("Control+d")  # row 3 takes row 2's grade
    assert selects.nth(2).input_value() == first_value
    assert errors == []


@pytest.mark.parametrize("width", [1366, 375])
def test_the_assessment_pages_fit_the_width(site_server, browser, oakfield, password, width):
    port = site_server.rsplit(":", 1)[1]
    base = f"http://{oakfield.hostname}:{port}"
    with schema_context(oakfield.school.schema_name):
        group = Group.objects.filter(kind=Group.Kind.TEACHING).order_by("pk").first()
    page = browser.new_page(viewport={"width": width, "height": 800})
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, base, oakfield, oakfield.demo.head_email, password)

    widths = {}
    for path in [f"/groups/{group.pk}/marksheet/", "/settings/assessment/", "/import/results/", "/pupils/?sort=progress"]:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        widths[path] = page.evaluate("document.documentElement.scrollWidth")

    assert all(w <= width for w in widths.values()), widths
    assert errors == []
