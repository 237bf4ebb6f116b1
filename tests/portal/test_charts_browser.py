"""The charts as people see them, in Chromium: on the pupil page and the printable report, at 1366
px (a head on a desktop) and 375 px (a parent on a phone), every label of every chart is drawn at 11
px or more (its box measured with getBoundingClientRect, and its font size times the SVG's scale),
the page does not scroll sideways, and in print the charts are black on white and unclipped. The
cohort bars measured the same way inside a phone's card. Screenshots go to CHART_SCREENSHOTS when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from tenants.assessment import charts
from tenants.assessment.selectors import CohortRow
from tenants.pupils.models import Group, Pupil
from tests.browser_fixtures import needs_chromium
from tests.helpers import current_code
from tests.portal.test_browser import sign_in

pytestmark = [needs_chromium, pytest.mark.django_db]

SHOTS = os.environ.get("CHART_SCREENSHOTS")

# Every text of every chart: its rendered box height, its font size on screen, and whether it lies
# inside its SVG's box (nothing clipped) and inside the window (nothing off the edge).
MEASURE = """() => [...document.querySelectorAll('svg.chart, svg.bars')].flatMap(svg => {
  const box = svg.getBoundingClientRect(), scale = svg.getScreenCTM().a;
  return [...svg.querySelectorAll('text')].filter(t => t.textContent.trim()).map(t => {
    const r = t.getBoundingClientRect();
    return {text: t.textContent, height: r.height, size: parseFloat(getComputedStyle(t).fontSize) * scale,
            inside: r.left >= box.left - 0.5 && r.right <= box.right + 0.5 && r.top >= box.top - 0.5
                    && r.bottom <= box.bottom + 0.5,
            onscreen: r.left >= 0 && r.right <= window.innerWidth, fill: getComputedStyle(t).fill};
  });
})"""


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)
        cards = page.locator("section.card.progress")
        if cards.count():
            cards.first.screenshot(path=str(Path(SHOTS) / f"{name}-card.png"))


def _check_labels(page, *, charts_expected: int) -> list[dict]:
    labels = page.evaluate(MEASURE)
    assert page.locator("svg.chart").count() == charts_expected
    assert len(labels) >= 10 * charts_expected
    small = [label for label in labels if label["height"] < 11 or label["size"] < 11]
    assert not small, small[:5]
    assert all(label["inside"] and label["onscreen"] for label in labels), [
        label for label in labels if not (label["inside"] and label["onscreen"])][:5]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    return labels


@pytest.mark.parametrize(("who", "width"), [("head", 1366), ("parent", 375), ("teacher", 375), ("parent", 1366)])
def test_the_pupil_page_and_the_report_read_at_desktop_and_phone_widths(site_server, browser, oakfield, password,
                                                                       who, width):
    port = site_server.rsplit(":", 1)[1]
    base = f"http://{oakfield.hostname}:{port}"
    with schema_context(oakfield.school.schema_name):
        if who in ("parent", "head"):
            child = Pupil.objects.get(parent_links__parent__user__email=oakfield.demo.parent_email)
        else:  # one of the teacher's pupils
            group = Group.objects.filter(staff__email=oakfield.demo.teacher_email).order_by("pk").first()
            child = group.pupils.filter(on_roll=True).order_by("surname", "forename", "id").first()
    page = browser.new_page(viewport={"width": width, "height": 900 if width > 400 else 667})
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    email = {"head": oakfield.demo.head_email, "teacher": oakfield.demo.teacher_email,
             "parent": oakfield.demo.parent_email}[who]
    sign_in(page, base, email, password)
    if who == "head":  # a school admin's second step
        with schema_context(oakfield.school.schema_name):
            page.fill("#id_code", current_code(email))
        page.click("button[type=submit]")
        page.wait_for_load_state()

    page.goto(f"{base}/pupils/{child.pk}/")
    _shot(page, f"pupil-{who}-{width}")
    labels = _check_labels(page, charts_expected=4)
    sizes = sorted(label["size"] for label in labels)
    assert sizes[0] >= 11 and sizes[-1] <= 17  # readable on a phone, not shouting on a desktop
    assert page.locator("svg.chart .legend text").first.text_content() == "Results"
    assert (page.locator(".plain-words").count() == 4) == (who == "parent")
    # the text alternative opens from the keyboard
    page.locator("details.chart-data summary").first.focus()
    page.keyboard.press("Enter")
    assert page.locator("details.chart-data table").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.goto(f"{base}/pupils/{child.pk}/report/")
    _shot(page, f"report-{who}-{width}")
    _check_labels(page, charts_expected=4)

    page.emulate_media(media="print")
    printed = page.evaluate(MEASURE)
    assert printed and all(label["fill"] == "rgb(0, 0, 0)" for label in printed)
    assert all(label["inside"] for label in printed)  # nothing clipped
    strokes = page.evaluate("""() => [...document.querySelectorAll('svg.chart .results, svg.chart .flight')]
                                     .map(e => getComputedStyle(e).stroke)""")
    assert strokes and set(strokes) == {"rgb(0, 0, 0)"}
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).display") == "none"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _shot(page, f"report-print-{who}-{width}")
    assert page.pdf()[:4] == b"%PDF"
    assert not errors, errors


def test_the_cohort_bars_read_in_a_phones_card(site_server, browser, oakfield, password):
    port = site_server.rsplit(":", 1)[1]
    base = f"http://{oakfield.hostname}:{port}"
    rows = [CohortRow(label="Disadvantaged", pupils=4, on_or_above=1, with_status=4),
            CohortRow(label="Not disadvantaged", pupils=9, on_or_above=7, with_status=9),
            CohortRow(label="No data yet", pupils=1)]
    markup = str(charts.bar_chart(rows, value="on_track_percent", unit="%"))
    page = browser.new_page(viewport={"width": 375, "height": 667})
    page.goto(f"{base}/accounts/login/")  # the site's own style sheet
    page.evaluate("html => { document.querySelector('main').innerHTML = '<section class=\"card\">' + html + '</section>'; }",
                  markup)
    labels = page.evaluate(MEASURE)
    assert [label["text"] for label in labels] == ["Disadvantaged", "25%", "Not disadvantaged", "78%", "No data yet",
                                                   "\u2014"]
    assert all(label["height"] >= 11 and label["size"] >= 11 for label in labels), labels
    assert all(label["inside"] and label["onscreen"] for label in labels), labels
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _shot(page, "bars-375")
