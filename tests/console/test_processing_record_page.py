"""The record of processing reads as written: the pupil row's two retention rules are two clauses
(not one glued sentence), and at 1366 px its table has the window's width, each column room to read."""

from __future__ import annotations

import pytest

from ops.demo import DEMO_OPERATOR_EMAIL, DEMO_PASSWORD
from shared.compliance import processing
from shared.privacy.retention.registry import Category
from tests.browser_fixtures import needs_chromium
from tests.helpers import current_code

pytestmark = pytest.mark.django_db


def test_the_pupil_rows_retention_is_two_rules_each_a_clause_of_its_own():
    (pupil,) = {row.retention for row in processing.controller_rows() if row.category == Category.PUPIL}

    assert pupil == ("while the pupil is with the school, then for the school's grace period (12 months unless the "
                     "school sets another) from the pupil's leaving date; a school's whole database is deleted "
                     "6 months after its contract is cancelled")
    assert "cancelled from" not in pupil


@needs_chromium
def test_at_1366_px_the_records_table_uses_the_width_and_no_column_is_squeezed(site_server, browser):
    base = f"http://{site_server}"
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/console/login/")
    page.fill("#id_username", DEMO_OPERATOR_EMAIL)
    page.fill("#id_password", DEMO_PASSWORD)
    page.fill("#id_otp_token", current_code(DEMO_OPERATOR_EMAIL))
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")

    page.goto(f"{base}/console/compliance/processing/")

    table = page.locator("table.record-table")
    assert table.bounding_box()["width"] >= 1200
    widths = table.locator("thead th").evaluate_all("cells => cells.map(c => c.getBoundingClientRect().width)")
    assert len(widths) == 6 and min(widths) >= 110, widths
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
