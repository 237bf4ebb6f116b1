"""The console's menu is one row at 1366 px for the role that sees the most of it (administrator):
the technical screens, marketing and the account fold into menus that open with a click or the keyboard."""

from __future__ import annotations

import pytest

from ops.demo import DEMO_OPERATOR_EMAIL, DEMO_PASSWORD
from tests.browser_fixtures import needs_chromium
from tests.helpers import current_code

pytestmark = [needs_chromium, pytest.mark.django_db]


def signed_in(browser, base, width):
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(f"{base}/console/login/")
    page.fill("#id_username", DEMO_OPERATOR_EMAIL)
    page.fill("#id_password", DEMO_PASSWORD)
    page.fill("#id_otp_token", current_code(DEMO_OPERATOR_EMAIL))
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")
    return page


def test_at_1366_px_the_consoles_menu_is_one_row_and_its_menus_open(site_server, browser):
    base = f"http://{site_server}"
    page = signed_in(browser, base, 1366)

    tops = page.locator("header.topbar nav > *").evaluate_all(
        "items => items.map(i => Math.round(i.getBoundingClientRect().top))")
    assert len(tops) >= 10 and len(set(tops)) == 1, tops  # every item on one line
    assert page.locator("header.topbar").bounding_box()["height"] < 60

    assert not page.locator("nav a", has_text="Change log").is_visible()
    page.locator("nav summary", has_text="Technical").click()
    page.locator("nav a", has_text="Change log").click()
    page.wait_for_url(f"{base}/console/technical/changes/")
    assert page.locator("h1").inner_text() == "Change log"

    page.locator("nav summary", has_text="Account").focus()
    page.keyboard.press("Enter")  # the keyboard opens it too
    assert page.locator("nav .who").inner_text() == "Ada Administrator · Administrator"
    assert page.locator("nav button", has_text="Sign out").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


def test_on_a_phone_the_consoles_menus_stay_inside_the_page(site_server, browser):
    base = f"http://{site_server}"
    page = signed_in(browser, base, 375)

    for name in ("Marketing", "Technical", "Account"):
        page.locator("nav summary", has_text=name).click()
        box = page.locator("details[open] .menu-items").last.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, (name, box)
        page.locator("nav summary", has_text=name).click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
