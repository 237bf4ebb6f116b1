"""In a real browser: a teacher enters a marksheet and sees the pupil's chart update; a parent signs
in and sees only their child. (Playwright on Debian's Chromium; skipped, saying why, without it.)"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django_tenants.utils import schema_context

from shared import clock
from tenants.assessment.models import Result
from tenants.pupils.models import Group, Pupil
from tests.browser_fixtures import needs_chromium
from tests.helpers import committed

pytestmark = [needs_chromium, pytest.mark.django_db]


@pytest.fixture
def test_day(oakfield):
    """A past day no seeded result falls on (marks are for days that have been). The browser's
    marksheet is committed by the live server; take it away afterwards."""
    with schema_context(oakfield.school.schema_name):
        taken = set(Result.objects.values_list("recorded_on", flat=True).distinct())
    day = next(clock.today() - dt.timedelta(days=back) for back in range(1, 400)
               if clock.today() - dt.timedelta(days=back) not in taken)
    yield day
    with committed(oakfield.school.schema_name) as cursor:
        cursor.execute(f"DELETE FROM {Result._meta.db_table} WHERE recorded_on = %s", [day])


def sign_in(page, base, email, password):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_a_teacher_enters_a_marksheet_and_sees_the_pupils_chart_update(site_server, browser, oakfield, password,
                                                                         test_day):
    port = site_server.rsplit(":", 1)[1]
    base = f"http://{oakfield.hostname}:{port}"
    with schema_context(oakfield.school.schema_name):
        group = Group.objects.filter(staff__email=oakfield.demo.teacher_email).order_by("pk").first()
        first = group.pupils.filter(on_roll=True).order_by("surname", "forename", "id").first()
    page = browser.new_page()
    sign_in(page, base, oakfield.demo.teacher_email, password)

    page.goto(f"{base}/groups/{group.pk}/marksheet/?date={test_day.isoformat()}")
    selects = page.locator("form.marksheet select")
    count = selects.count()
    selects.first.focus()
    for index in range(count):  # keyboard only: pick a grade, tab to the next pupil
        page.keyboard.press("End")
        if index < count - 1:
            page.keyboard.press("Tab")
    page.click("text=Save all")
    page.wait_for_url(re.compile(r"marksheet/\?aspect=\d+&date="))
    assert f"Saved {count} results" in page.locator(".messages").inner_text()

    page.goto(f"{base}/pupils/{first.pk}/")
    assert page.locator("svg.chart title", has_text=f"on {test_day:%d %b %Y}").count() == 1


def test_a_parent_signs_in_and_sees_only_their_child(site_server, browser, oakfield, password):
    port = site_server.rsplit(":", 1)[1]
    base = f"http://{oakfield.hostname}:{port}"
    with schema_context(oakfield.school.schema_name):
        child = Pupil.objects.get(parent_links__parent__user__email=oakfield.demo.parent_email)
        other = Pupil.objects.exclude(pk=child.pk).first()
    page = browser.new_page()

    sign_in(page, base, oakfield.demo.parent_email, password)

    links = page.locator("main a")
    assert links.count() == 1 and links.first.inner_text() == f"{child.forename} {child.surname}"
    links.first.click()
    page.wait_for_url(f"{base}/pupils/{child.pk}/")
    assert page.locator("h1").inner_text() == f"{child.forename} {child.surname}"
    assert page.goto(f"{base}/pupils/{other.pk}/").status == 404


def test_forgot_password_end_to_end_by_mail(site_server, browser, oakfield, password, smtp, queued):
    """"Forgot password?" on the school site: the mail read from the SMTP server, its link followed,
    the new password signs in and the old does not, and the link works once."""
    from urllib.parse import urlsplit

    from tenants.users.models import User

    port = site_server.rsplit(":", 1)[1]
    base = f"http://{oakfield.hostname}:{port}"
    email, new = oakfield.demo.parent_email, "a-new-browser-pass-4"
    with schema_context(oakfield.school.schema_name):
        user = User.objects.get(email=email)
        saved = (user.password, user.last_login)
    page = browser.new_page()
    try:
        page.goto(f"{base}/accounts/login/")
        page.click("text=Forgot password?")
        page.fill("#id_email", email)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Check your email"

        assert queued.actors() == ["password_reset_mail"]
        queued.run()  # the worker: looks the address up and mails the link
        (message,) = smtp.messages
        assert message["To"] == email and oakfield.school.name in message["Subject"]
        (link,) = [url for url in smtp.links(message) if "/accounts/password-reset/" in url]
        assert urlsplit(link).hostname == oakfield.hostname

        page.goto(f"{base}{urlsplit(link).path}")
        page.fill("#id_new_password1", new)
        page.fill("#id_new_password2", new)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Your new password is set"

        sign_in(page, base, email, password)  # the old password
        assert "/accounts/login/" in page.url and page.locator(".errors").count() == 1
        sign_in(page, base, email, new)
        assert "/accounts/login/" not in page.url
        again = browser.new_page()  # someone else with the link, later
        again.goto(f"{base}{urlsplit(link).path}")
        assert again.locator("h1").inner_text() == "This link no longer works"
        again.close()
    finally:
        page.close()
        with committed(oakfield.school.schema_name) as cursor:
            cursor.execute(f"UPDATE {User._meta.db_table} SET password = %s, last_login = %s WHERE id = %s",
                           [*saved, user.pk])
