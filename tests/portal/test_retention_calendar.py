"""The school's retention page shows the next 90 days as a calendar: a month grid (Monday first) for
each month they touch, the days on which a leaver's records fall due marked and linked to the list
below, which names them; readable by a screen reader and by keyboard."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django_tenants.utils import schema_context

from portal.month_grid import month_grids
from shared import clock
from tenants.pupils.models import Pupil
from tests.browser_fixtures import needs_chromium
from tests.helpers import school_client

pytestmark = pytest.mark.django_db


def test_month_grids_cover_the_span_monday_first_and_count_what_falls_due():
    start = dt.date(2026, 12, 1)  # a Tuesday

    months = month_grids(start=start, days=90, due_on=[dt.date(2026, 12, 14), dt.date(2026, 12, 14), dt.date(2027, 2, 1)])

    assert [m.first for m in months] == [dt.date(2026, 12, 1), dt.date(2027, 1, 1), dt.date(2027, 2, 1), dt.date(2027, 3, 1)]
    first_week = months[0].weeks[0]
    assert first_week[0].date == dt.date(2026, 11, 30) and not first_week[0].in_month  # Monday first
    assert first_week[1].today and first_week[1].in_span
    assert [m.due for m in months] == [2, 0, 1, 0]
    assert next(d for w in months[0].weeks for d in w if d.date == dt.date(2026, 12, 14)).due == 2
    assert not next(d for w in months[3].weeks for d in w if d.date == dt.date(2027, 3, 2)).in_span


def test_the_retention_page_marks_the_day_a_leavers_records_fall_due_and_lists_them(oakfield):
    today = clock.today()
    with schema_context(oakfield.school.schema_name):
        Pupil.objects.create(forename="Lee", surname="Leaver", on_roll=False,
                             leaving_date=clock.add_months(today, -12) + dt.timedelta(days=10))
    due = today + dt.timedelta(days=10)

    page = school_client(oakfield, oakfield.demo.head_email).get("/retention/").content.decode()

    expected_months = len({(d.year, d.month) for d in (today + dt.timedelta(days=n) for n in range(91))})
    assert page.count('<table class="month">') == expected_months
    assert f"<caption>{today:%B %Y}" in page
    assert '<th scope="col" abbr="Monday">Mo</th>' in page
    assert re.search(rf'<td class="due[^"]*"[^>]*><a href="#due-{due.isoformat()}" aria-label="{due.day} {due:%B}: '
                     rf'\d+ due">{due.day}</a></td>', page)
    item = re.search(rf'<li id="due-{due.isoformat()}" tabindex="-1"><strong>{due:%A} {due.day} {due:%B %Y}</strong>'
                     r"(.*?)</ul></li>", page, flags=re.S)
    assert item and "Lee Leaver" in item.group(1)
    assert 'aria-current="date"' in page
    assert "90-day calendar" not in page


@needs_chromium
@pytest.mark.parametrize("width", [1366, 375])
def test_in_chromium_the_calendar_fits_the_page(site_server, browser, oakfield, width):
    from tests.portal.test_date_fields_browser import head_signed_in

    port = site_server.rsplit(":", 1)[1]
    base = f"http://{oakfield.hostname}:{port}"
    page = head_signed_in(browser, base, oakfield)
    page.set_viewport_size({"width": width, "height": 800})

    page.goto(f"{base}/retention/")

    months = page.locator("table.month")
    assert months.count() >= 3
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    boxes = [months.nth(i).bounding_box() for i in range(months.count())]
    assert all(box["width"] >= 200 for box in boxes)  # each month readable, seven columns wide
    if width == 1366:
        assert boxes[0]["y"] == boxes[1]["y"]  # months side by side on a desktop
