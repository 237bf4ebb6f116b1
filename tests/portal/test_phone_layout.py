"""On a 375 x 667 phone: the sign-in form's button is in the first screen on the school site and on
the console, and cards and forms keep their margins (nothing reaches the screen's edge or beyond)."""

from __future__ import annotations

import pytest

from tests.browser_fixtures import needs_chromium
from tests.portal.test_date_fields_browser import head_signed_in

pytestmark = [needs_chromium, pytest.mark.django_db]
PHONE = {"width": 375, "height": 667}


@pytest.mark.parametrize("site", ["school", "console"])
def test_the_sign_in_button_is_above_the_fold_on_a_phone(site_server, browser, oakfield, site):
    port = site_server.rsplit(":", 1)[1]
    url = (f"http://{oakfield.hostname}:{port}/accounts/login/" if site == "school"
           else f"http://{site_server}/console/login/")
    page = browser.new_page(viewport=PHONE)

    page.goto(url)

    button = page.locator("main form button[type=submit]").first
    box = button.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], box
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_cards_and_forms_keep_their_margins_on_a_phone(site_server, browser, oakfield):
    port = site_server.rsplit(":", 1)[1]
    base = f"http://{oakfield.hostname}:{port}"
    page = head_signed_in(browser, base, oakfield)
    page.set_viewport_size(PHONE)

    for path in ("/retention/", "/settings/", "/rights/", "/rights/consents/", "/users/", "/import/"):
        page.goto(f"{base}{path}")
        edges = page.locator("main .card").evaluate_all(
            "cards => cards.map(c => [c.getBoundingClientRect().left, c.getBoundingClientRect().right])")
        assert edges, path
        for left, right in edges:
            assert left >= 12 and right <= PHONE["width"] - 12, (path, left, right)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
