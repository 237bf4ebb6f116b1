"""Links in mail: absolute, on the vendor's host or the school's, with the configured scheme and
port; and the check that refuses any other host, or anything that loads from elsewhere."""

from __future__ import annotations

import pytest

from shared.mail.links import ForeignLinkRefused, absolute_url, links_check

pytestmark = pytest.mark.django_db


def test_absolute_urls_follow_the_settings(oakfield, settings):
    assert absolute_url("/mail/x/") == "http://localhost:8000/mail/x/"
    assert absolute_url("/a/?b=1", school=oakfield.school) == f"http://{oakfield.hostname}:8000/a/?b=1"
    settings.SITE_SCHEME, settings.SITE_PORT, settings.BASE_DOMAIN = "https", "", "pupiltracking.example"
    assert absolute_url("/", school=oakfield.school) == "https://oakfield.pupiltracking.example/"


@pytest.mark.parametrize("path", ["", "x/", "//evil.example/", "https://evil.example/"])
def test_absolute_url_takes_only_a_path(path):
    with pytest.raises(ValueError):
        absolute_url(path)


@pytest.mark.parametrize("html", [
    '<img src="http://localhost:8000/pixel.gif">',
    '<a href="https://localhost.evil.example/">x</a>',
    '<a href="/relative/">x</a>',
    '<a href="javascript:alert(1)">x</a>',
    '<p style="background:url(https://evil.example/p.png)">x</p>',
    '<link rel="stylesheet" href="http://localhost:8000/s.css">',
    '<table background="http://localhost:8000/b.png"></table>',
])
def test_the_html_part_may_not_load_or_link_elsewhere(html):
    with pytest.raises(ForeignLinkRefused):
        links_check(text="", html=html)


def test_the_products_own_links_and_mailto_pass():
    links_check(text="See http://localhost:8000/a/ and http://oakfield.localhost:8000/b/.",
                html='<a href="http://oakfield.localhost:8000/b/">b</a> <a href="mailto:dpo@example.org">dpo</a>')
