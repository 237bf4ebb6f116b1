"""The privacy notice on every site: version 1 seeded from the text in the repository, a footer link
with version and date, the public page, and the "what changed" banner."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.compliance import notices
from shared.compliance.models import NoticeVersion
from shared.operators.models import Operator
from tests.helpers import console_client, form_token, host_client

pytestmark = pytest.mark.django_db
NOTICE = Path(__file__).resolve().parents[3] / "shared" / "compliance" / "notice" / "privacy-notice-v1.txt"
FOOTER_V1 = b'<a href="/privacy/">Privacy notice</a> (version 1, 1 November 2026)'
BANNER = b'class="notice-banner'
SUMMARY_V2 = "Names the certifications of our hosting provider, and the breach register."


def test_version_1_is_the_notice_in_the_repository():
    current = notices.notice_current()

    assert (current.version, current.published_on) == ("1", dt.date(2026, 11, 1))
    assert current.text == NOTICE.read_text(encoding="utf-8").strip()
    assert "Pupil Tracking Ltd Privacy and Data Protection Notice" in current.text


def test_the_footer_shows_the_version_and_date_on_a_school_page(oakfield):
    response = host_client(oakfield.hostname).get("/accounts/login/")

    assert response.status_code == 200 and FOOTER_V1 in response.content


def test_the_footer_shows_the_version_and_date_on_a_console_page():
    response = console_client(Operator.Role.SUPPORT).get("/console/")

    assert response.status_code == 200 and FOOTER_V1 in response.content


@pytest.mark.parametrize("school", [None, "oakfield"])
def test_the_notice_has_a_public_page_on_every_site(school, request):
    host = request.getfixturevalue(school).hostname if school else settings.BASE_DOMAIN

    response = host_client(host).get("/privacy/")

    assert response.status_code == 200
    assert b"Version 1, published 1 November 2026" in response.content
    assert b"Our Privacy and Data Protection Notice is designed to tell you" in response.content


def test_the_school_page_keeps_the_schools_own_look(oakfield):
    response = host_client(oakfield.hostname).get("/privacy/")

    assert b"Oakfield Primary" in response.content


def publish_v2_through_the_console() -> None:
    connection.set_schema_to_public()  # a school-site request leaves the test's connection in the school
    client = console_client(Operator.Role.DPO)
    page = client.get("/console/compliance/notice/")
    response = client.post("/console/compliance/notice/", {
        "version": "2", "published_on": clock.today().isoformat(), "summary": SUMMARY_V2,
        "text": notices.notice_current().text + "\n\nA new paragraph.", "form_token": form_token(page)})
    assert response.status_code == 302, response.content[:3000]


@pytest.mark.parametrize("school", [None, "oakfield"])
def test_the_banner_lists_what_changed_after_a_new_version_and_not_again_once_seen(school, request):
    host = request.getfixturevalue(school).hostname if school else settings.BASE_DOMAIN
    browser = host_client(host)
    browser.get("/privacy/")  # read version 1
    assert BANNER not in browser.get("/privacy/").content

    publish_v2_through_the_console()
    shown = browser.get("/privacy/versions/1/")  # any page but the current notice itself
    dismissed = browser.post("/privacy/seen/", {"next": "/privacy/versions/1/"})
    after = browser.get("/privacy/versions/1/")

    assert BANNER in shown.content
    assert b"Our privacy notice has changed" in shown.content and SUMMARY_V2.encode() in shown.content
    assert dismissed.status_code == 302 and dismissed["Location"] == "/privacy/versions/1/"
    assert BANNER not in after.content
    assert b"(version 2, " in after.content


def test_reading_the_new_notice_counts_as_seeing_it(oakfield):
    browser = host_client(oakfield.hostname)
    browser.get("/privacy/")
    publish_v2_through_the_console()
    assert SUMMARY_V2.encode() in browser.get("/accounts/login/").content

    browser.get("/privacy/")

    assert BANNER not in browser.get("/accounts/login/").content


def test_a_first_visit_is_told_about_the_notice_once():
    browser = host_client(settings.BASE_DOMAIN)

    first = browser.get("/")
    browser.post("/privacy/seen/", {"next": "/"})

    assert b"Our privacy notice</strong> is at version 1" in first.content
    assert BANNER not in browser.get("/").content


def test_dismissing_never_redirects_off_the_site():
    response = host_client(settings.BASE_DOMAIN).post("/privacy/seen/", {"next": "https://evil.example/"})

    assert response["Location"] == "/"


@pytest.mark.parametrize("back", ["0", "home", "login"])
def test_dismissing_with_a_bare_word_goes_to_that_relative_path_not_to_a_view_name(back):
    # Found by the fuzz test: redirect("0") tried to reverse a view named "0" and answered 500.
    response = host_client(settings.BASE_DOMAIN).post("/privacy/seen/", {"next": back})

    assert response.status_code == 302
    assert response["Location"] == back


def test_publishing_is_change_logged_and_checks_its_input(actor):
    current = notices.notice_current()
    for bad, field in [({"version": "1"}, "version"), ({"summary": " "}, "summary"),
                       ({"text": current.text}, "text"),
                       ({"published_on": clock.today() + dt.timedelta(days=1)}, "published_on"),
                       ({"published_on": current.published_on - dt.timedelta(days=1)}, "published_on")]:
        data = {"version": "2", "text": current.text + " Changed.", "summary": "A change.", **bad}
        with pytest.raises(ValidationError) as refused:
            notices.notice_version_publish(actor=actor, **data)
        assert field in refused.value.message_dict, bad
    assert NoticeVersion.objects.count() == 1

    notice = notices.notice_version_publish(actor=actor, version="2", text=current.text + " Changed.",
                                             summary="A change.")

    assert notices.notice_current() == notice
    entry = ChangeLogEntry.objects.get(object_type="compliance.noticeversion", object_id=str(notice.pk))
    assert entry.actor_id == actor.user_id and entry.action == "create"


def test_the_banner_dismisses_with_the_csrf_check_on(oakfield):
    browser = host_client(oakfield.hostname, enforce_csrf_checks=True)
    page = browser.get("/accounts/login/")
    token = re.search(rb'<aside class="notice-banner.*?name="csrfmiddlewaretoken" value="([^"]+)"', page.content,
                      re.S).group(1).decode()

    dismissed = browser.post("/privacy/seen/", {"csrfmiddlewaretoken": token, "next": "/accounts/login/"})

    assert dismissed.status_code == 302
    assert BANNER not in browser.get("/accounts/login/").content
