"""On a 375 px phone the privacy-notice banner is a line or two with its actions, not the first
screen: what changed folds away under "What changed" (a click opens it)."""

from __future__ import annotations

import pytest

from tests.browser_fixtures import needs_chromium

pytestmark = [needs_chromium, pytest.mark.django_db]


def test_the_banner_takes_a_small_part_of_a_phones_first_screen(site_server, browser, oakfield):
    port = site_server.rsplit(":", 1)[1]
    page = browser.new_page(viewport={"width": 375, "height": 667})
    page.goto(f"http://{oakfield.hostname}:{port}/accounts/login/")

    banner = page.locator("aside.notice-banner")
    assert banner.is_visible() and page.locator("aside.notice-banner summary").inner_text() == "What changed"
    assert banner.bounding_box()["height"] < 667 * 0.35
    assert not page.locator("aside.notice-banner li").first.is_visible()  # folded away
    page.locator("aside.notice-banner summary").click()
    assert page.locator("aside.notice-banner li").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing widens the page
