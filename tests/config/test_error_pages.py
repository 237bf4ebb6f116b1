"""The 404 and 403 pages: styled on every host (an unknown subdomain's stylesheet loads there too),
and with the navigation of the site they are on; the demo runs with Django's debug pages off."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from shared.operators.models import Operator
from tests.browser_fixtures import needs_chromium
from tests.helpers import console_client, host_client, school_client

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]
UNKNOWN = f"nosuchschool.{settings.BASE_DOMAIN}"


def test_an_unknown_subdomain_gets_the_styled_404_and_its_stylesheet_and_icon_load_there():
    client = host_client(UNKNOWN)
    page = client.get("/")

    assert page.status_code == 404
    body = page.content.decode()
    assert "There is no school site at this address." in body
    for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', body):
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert b"There is no school site" not in b"".join(response.streaming_content)
    assert client.get("/static/css/site.css")["Content-Type"].startswith("text/css")
    assert client.get("/static/css/no-such-file.css").status_code == 404
    assert client.get("/console/login/").status_code == 404  # only static files are the same on every host


def test_a_school_sites_404_and_403_keep_the_schools_navigation(oakfield):
    teacher = school_client(oakfield, oakfield.demo.teacher_email)

    missing, refused = teacher.get("/no-such-page/"), teacher.get("/users/")

    assert (missing.status_code, refused.status_code) == (404, 403)
    for response in (missing, refused):
        body = response.content.decode()
        assert '<a href="/pupils/">Pupils</a>' in body and "Sign out" in body
        assert oakfield.school.name in body
    assert "We couldn't find that page." in missing.content.decode()
    assert "<h1>Not allowed</h1>" in refused.content.decode()


def test_a_school_sites_404_signed_out_is_the_schools_page_without_a_menu(oakfield):
    body = host_client(oakfield.hostname).get("/no-such-page/").content.decode()

    assert oakfield.school.name in body and "Sign out" not in body and "/static/css/site.css" in body


def test_the_consoles_404_and_403_keep_the_consoles_navigation():
    support = console_client(Operator.Role.SUPPORT)

    missing, refused = support.get("/console/no-such-page/"), support.get("/console/invoices/")

    assert (missing.status_code, refused.status_code) == (404, 403)
    for response in (missing, refused):
        body = response.content.decode()
        assert "Pupil Tracking · Console" in body and '<a href="/console/clients/">Clients</a>' in body
        assert "Sam Support · Support" in body
    assert "cannot open this screen" in refused.content.decode()


def test_the_demo_runs_with_debug_pages_off():
    """ops/run exports DEBUG=false (unless told otherwise) before it starts anything, and the
    development settings read it."""
    script = (REPO / "ops/run").read_text()
    assert script.index('export DEBUG="${DEBUG:-false}"') < script.index("honcho")
    read = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.DEBUG)"],
        env={"DJANGO_SETTINGS_MODULE": "config.settings.development", "DEBUG": "false", "PYTHONPATH": "platform:.",
             "DATABASE_URL": "postgres://unused", "REDIS_URL": "redis://unused", "PATH": "/usr/bin:/bin"},
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert read.stdout.strip() == "False", read.stderr[-2000:]


@pytest.fixture
def served_through_the_middleware(django_db_blocker):
    """The product in a thread with no static-files handler in front of it (a live server's usual
    one answers /static/ before the middleware, and so would hide this defect): WhiteNoise serves."""
    from django.test.testcases import LiveServerThread

    with django_db_blocker.unblock():
        thread = LiveServerThread("127.0.0.1", static_handler=lambda app: app, port=0)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        try:
            yield thread.port
        finally:
            thread.terminate()


@needs_chromium
def test_in_chromium_the_unknown_subdomains_404_is_styled(served_through_the_middleware, browser):
    port = served_through_the_middleware
    page = browser.new_page()
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 and "/static/" in r.url else None)

    page.goto(f"http://{UNKNOWN}:{port}/")

    assert page.locator("h1").inner_text() == "Page not found"
    assert failed == []
    card = page.locator("section.card")
    assert card.evaluate("e => getComputedStyle(e).borderTopStyle") != "none" or \
        card.evaluate("e => getComputedStyle(e).boxShadow") != "none"
