"""Fixtures for browser tests: a live server thread on the test database and Debian's Chromium
driven by Playwright. Tests that use them are skipped, saying why, where Chromium is missing.
What a browser writes through the live server is committed: such tests clean up after themselves."""

from __future__ import annotations

import shutil

import pytest
from django.conf import settings

from tests.helpers import product_served_in_thread

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="no Chromium on this machine (apt-get install chromium; CI installs it)")


@pytest.fixture
def site_server(django_db_blocker):
    with django_db_blocker.unblock(), product_served_in_thread() as port:
        yield f"{settings.BASE_DOMAIN}:{port}"


@pytest.fixture
def browser(monkeypatch):
    playwright_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop on this thread; the test's own database calls are
    # still synchronous, which Django's guard cannot tell (the documented switch for this case).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
