"""The public request page ("via our contact page"): nothing is stored until the address is
confirmed by the mailed link; then a request about the vendor's records lands in the console's
Requests, one about a school's data in that school's Requests, received on the day it was sent, and
the person is mailed the deadline. Bots (the honeypot), floods (the limits per address and per
email) and hostile input are refused, changing nothing."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django_tenants.utils import schema_context

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.mail.models import OutgoingMessage
from shared.privacy.models import SubjectRequest
from shared.privacy.requests import public
from tenants.rights.models import SchoolRequest
from tests.helpers import form_token, host_client
from tests.mail_fixtures import mail_deliver_all

pytestmark = pytest.mark.django_db

D = dt.date
MONDAY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh_limits(monkeypatch):
    cache.clear()
    monkeypatch.setattr(clock, "now", lambda: MONDAY)
    yield
    cache.clear()


def on_day(monkeypatch, moment: dt.datetime) -> None:
    monkeypatch.setattr(clock, "now", lambda: moment)


def counts(*schools) -> tuple:
    result = [SubjectRequest.objects.count(), ChangeLogEntry.objects.count(), OutgoingMessage.objects.count()]
    for school in schools:
        with schema_context(school.school.schema_name):
            result.append(SchoolRequest.objects.count())
    return tuple(result)


def submit(client, **data):
    page = client.get("/contact/")
    assert page.status_code == 200
    fields = {"kind": "access", "about": "vendor", "name": "Robin Parent", "email": "robin@home.example",
              "details": "A copy of what you hold about me.", "website": "", **data}
    return client.post("/contact/", {"form_token": form_token(page), **fields}, follow=True)


def mailed_link(smtp, to: str, subject_part: str) -> str:
    """The path of the one product link (not the preferences page) in the message to ``to``."""
    mail_deliver_all()
    message = next(m for m in reversed(smtp.messages) if m["To"] == to and subject_part in m["Subject"])
    links = [url for url in smtp.links(message) if "/mail/preferences/" not in url]
    assert len(links) == 1, links
    assert urlsplit(links[0]).hostname == settings.BASE_DOMAIN.split(":")[0]
    return urlsplit(links[0]).path


def confirm(client, path: str):
    page = client.get(path)
    assert page.status_code == 200, page.content[:2000]
    return client.post(path, {"form_token": form_token(page)})


def test_a_request_about_the_vendors_records_lands_in_requests_once_the_address_is_confirmed(
        oakfield, riverside, smtp, monkeypatch):
    person = host_client(settings.BASE_DOMAIN)
    before = counts(oakfield, riverside)
    response = submit(person)
    assert response.status_code == 200 and "Check your email" in response.content.decode()
    assert counts(oakfield, riverside)[:2] == before[:2]  # nothing stored: no request, no change-log row

    path = mailed_link(smtp, "robin@home.example", "Confirm your request")
    on_day(monkeypatch, MONDAY + dt.timedelta(days=2))  # followed on Wednesday
    done = confirm(person, path)
    assert done.status_code == 200, done.content[:2000]
    landed = SubjectRequest.objects.get(requester_email="robin@home.example")
    # received when it reached us (Monday), the address verified when confirmed (Wednesday)
    assert (landed.kind, landed.state, landed.received_on, landed.email_verified_on, landed.school_id) == (
        "access", "received", D(2026, 11, 2), D(2026, 11, 4), None)
    assert "2 December 2026" in done.content.decode()
    smtp.clear()
    mail_deliver_all()
    [ack] = smtp.messages
    assert ack["To"] == "robin@home.example" and ack["Subject"] == "We have received your access request"
    assert "2 December 2026" in smtp.text(ack) and f"reference {landed.pk}" in smtp.text(ack)

    # the link works once: a second confirmation is refused and changes nothing
    after = counts(oakfield, riverside)
    again = person.post(path, {"form_token": form_token(person.get(path))})
    assert again.status_code in (409, 410) and counts(oakfield, riverside) == after


def test_a_request_about_a_schools_data_is_handed_to_that_school_with_its_received_date(
        oakfield, riverside, smtp, monkeypatch):
    person = host_client(settings.BASE_DOMAIN)
    page = person.get("/contact/").content.decode()
    assert oakfield.school.name in page and riverside.school.name in page  # the served schools, by name
    submit(person, about=str(oakfield.school.pk), kind="erasure", details="Please erase my child's photographs.")
    path = mailed_link(smtp, "robin@home.example", "Confirm your request")
    riverside_before = counts(riverside)[-1]
    on_day(monkeypatch, MONDAY + dt.timedelta(days=1))
    assert confirm(person, path).status_code == 200

    vendor = SubjectRequest.objects.get(requester_email="robin@home.example")
    assert (vendor.state, vendor.school_id, vendor.forwarded_on) == ("forwarded", oakfield.school.pk, D(2026, 11, 3))
    with schema_context(oakfield.school.schema_name):
        school = SchoolRequest.objects.get(vendor_request_id=vendor.pk)
        assert (school.kind, school.received_on, school.email_verified_on, school.requester_email) == (
            "erasure", D(2026, 11, 2), D(2026, 11, 3), "robin@home.example")
    assert counts(riverside)[-1] == riverside_before  # the other school holds nothing of it
    smtp.clear()
    mail_deliver_all()
    [ack] = smtp.messages
    assert ack["Subject"] == f"Your erasure request has been passed to {oakfield.school.name}"
    assert "2 December 2026" in smtp.text(ack)


def test_a_complaint_or_a_question_lands_as_a_request_of_its_kind(oakfield, smtp):
    person = host_client(settings.BASE_DOMAIN)
    submit(person, kind="complaint", details="You mailed me twice.")
    assert confirm(person, mailed_link(smtp, "robin@home.example", "Confirm")).status_code == 200
    assert SubjectRequest.objects.get(requester_email="robin@home.example").get_kind_display() == \
        "Complaint about personal data"
    smtp.clear()
    mail_deliver_all()
    assert [m["Subject"] for m in smtp.messages] == ["We have received your complaint"]


def test_a_filled_honeypot_gets_the_same_answer_and_nothing_is_kept_or_sent(oakfield, smtp):
    person = host_client(settings.BASE_DOMAIN)
    before = counts(oakfield)
    response = submit(person, website="http://spam.example/")
    assert response.status_code == 200 and "Check your email" in response.content.decode()
    mail_deliver_all()
    assert counts(oakfield) == before and smtp.messages == []


def test_the_page_is_limited_per_email_and_per_address(oakfield, smtp):
    person = host_client(settings.BASE_DOMAIN)
    for _ in range(3):
        assert submit(person).status_code == 200
    refused = submit(person)
    assert refused.status_code == 429 and "Too many requests" in refused.content.decode()
    assert OutgoingMessage.objects.count() == 3  # the refused one mailed nothing
    for n in range(6):  # other addresses from the same client address: 10 in all
        assert submit(person, email=f"other{n}@home.example").status_code == 200
    assert submit(person, email="fresh@home.example").status_code == 429
    elsewhere = host_client(settings.BASE_DOMAIN, REMOTE_ADDR="203.0.113.9")
    assert submit(elsewhere, email="fresh@home.example").status_code == 200


@pytest.mark.parametrize("change", [{"kind": "shopping"}, {"about": "999999"}, {"email": "not-an-address"},
                                    {"details": ""}, {"details": "x" * (public.DETAILS_MAX + 1)}, {"name": ""}])
def test_invalid_choices_and_fields_are_refused_cleanly(oakfield, smtp, change):
    person = host_client(settings.BASE_DOMAIN)
    before = counts(oakfield)
    response = submit(person, **change)
    assert response.status_code == 400 and "Check your email" not in response.content.decode()
    assert counts(oakfield) == before


def test_hostile_bodies_and_links_are_refused_with_nothing_written(oakfield, smtp, monkeypatch):
    person = host_client(settings.BASE_DOMAIN)
    before = counts(oakfield)
    assert submit(person, details="bad\x00byte").status_code == 400
    huge = person.post("/contact/", {"details": "x" * (settings.REQUEST_MAX_BYTES + 10), "kind": "access"})
    assert huge.status_code == 413
    assert person.get("/contact/confirm/not-a-token/").status_code == 410
    submit(person)
    path = mailed_link(smtp, "robin@home.example", "Confirm")
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert person.get(f"/contact/confirm/{token[:-3]}abc/").status_code == 410  # tampered
    on_day(monkeypatch, MONDAY + dt.timedelta(days=public.SUBMISSION_DAYS + 1))
    assert person.get(path).status_code == 410  # expired
    assert counts(oakfield)[:2] == before[:2]


def test_the_page_links_from_the_footer_and_the_privacy_notice(oakfield):
    person = host_client(settings.BASE_DOMAIN)
    assert 'href="/contact/"' in person.get("/").content.decode()
    assert 'href="/contact/"' in person.get("/privacy/").content.decode()


def test_a_double_submit_mails_one_link(oakfield, smtp):
    person = host_client(settings.BASE_DOMAIN)
    page = person.get("/contact/")
    fields = {"form_token": form_token(page), "kind": "access", "about": "vendor", "name": "Robin Parent",
              "email": "robin@home.example", "details": "All of it.", "website": ""}
    assert person.post("/contact/", fields).status_code == 302
    again = person.post("/contact/", fields, follow=True)
    assert "already submitted" in again.content.decode()
    mail_deliver_all()
    assert len(smtp.messages) == 1 and SubjectRequest.objects.filter(requester_email="robin@home.example").count() == 0
