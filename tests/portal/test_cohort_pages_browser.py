"""In Chromium at 1366 px and 375 px: the dashboards, the cohort page and the transition matrix
neither widen the page (wide tables scroll inside their card) nor log a console error."""

from __future__ import annotations

import os

import pytest
from django_tenants.utils import schema_context

from tests.browser_fixtures import needs_chromium
from tests.helpers import current_code

pytestmark = [needs_chromium, pytest.mark.django_db]

SHOTS = os.environ.get("PUPILTRACK_SCREENSHOTS")  # a folder: save each page's screenshot there


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


@pytest.mark.parametrize("width", [1366, 375])
@pytest.mark.parametrize("who,paths", [("head", ["/", "/analysis/", "/analysis/transition/", "/analysis/no-result/"]),
                                       ("teacher", ["/", "/analysis/"])])
def test_the_pages_fit_the_screen_without_console_errors(site_server, browser, oakfield, password, width, who, paths):
    port = site_server.rsplit(":", 1)[1]
    base = f"http://{oakfield.hostname}:{port}"
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    email = oakfield.demo.head_email if who == "head" else oakfield.demo.teacher_email
    sign_in(page, base, oakfield, email, password)

    for path in paths:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (path, width)
        if SHOTS:
            name = f"{who}-{path.strip('/').replace('/', '-') or 'home'}-{width}.png"
            page.screenshot(path=os.path.join(SHOTS, name))
    assert errors == []
