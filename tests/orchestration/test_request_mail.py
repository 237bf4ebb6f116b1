"""What a requester is mailed about their request, from the console (the vendor's requests) and a
school's site (the school's): the acknowledgement with the deadline, the identity link (followed:
identity confirmed, address verified, the month restarts), the extension with its reason (refused
after the first month), the answer with an export's one-time link (only to a verified address),
and a refusal with its reasons and the ICO. Each message: the right recipient and subject, working
links to the product's own host only, no UPN and no other pupil's data; refusals send nothing."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.mail.models import OutgoingMessage
from shared.operators.models import Operator
from shared.privacy.models import SubjectRequest
from tenants.pupils.models import Pupil
from tenants.rights.models import ExportLink, SchoolRequest
from tests.helpers import console_client, form_token, host_client, school_client
from tests.mail_fixtures import mail_deliver_all

pytestmark = pytest.mark.django_db

D = dt.date
MONDAY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
ICO = "ico.org.uk/make-a-complaint"


@pytest.fixture(autouse=True)
def _monday(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: MONDAY)


def on_day(monkeypatch, day: dt.date) -> None:
    monkeypatch.setattr(clock, "now", lambda: dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC))


def delivered(smtp) -> list:
    smtp.clear()
    mail_deliver_all()
    return smtp.messages


def product_links(smtp, message, host: str) -> list[str]:
    """The message's links but its preferences page's, each checked to be on ``host``."""
    links = [url for url in smtp.links(message) if "/mail/preferences/" not in url]
    assert all(urlsplit(url).hostname == host.split(":")[0] for url in links), links
    assert all(urlsplit(url).hostname == settings.BASE_DOMAIN.split(":")[0] for url in smtp.links(message)
               if url not in links)  # the preferences page is the vendor's
    return [urlsplit(url).path for url in links]


def follow(client, path: str):
    page = client.get(path)
    assert page.status_code == 200, page.content[:2000]
    return client.post(path, {"form_token": form_token(page)})


# --- the vendor's requests (console) ---------------------------------------------------------

def record(client, **data) -> SubjectRequest:
    page = client.get("/console/requests/")
    response = client.post("/console/requests/", {"form_token": form_token(page), "received_on": "2026-11-02",
                                                  "requester_name": "Robin Contact", "kind": "access", **data})
    assert response.status_code == 302, response.content[:2000]
    return SubjectRequest.objects.latest("pk")


def act(client, request, **data):
    page = client.get(f"/console/requests/{request.pk}/")
    return client.post(f"/console/requests/{request.pk}/", {"form_token": form_token(page), **data})


def test_a_vendor_request_is_acknowledged_with_its_deadline_and_only_when_it_has_an_address(smtp):
    client = console_client(Operator.Role.DPO)
    record(client, requester_email="robin@home.example")
    [ack] = delivered(smtp)
    assert (ack["To"], ack["Subject"]) == ("robin@home.example", "We have received your access request")
    assert "2 December 2026" in smtp.text(ack) and product_links(smtp, ack, settings.BASE_DOMAIN) == []
    record(client)  # no address: nothing sent
    assert delivered(smtp) == []


def test_the_identity_link_confirms_identity_verifies_the_address_and_restarts_the_month(smtp, monkeypatch):
    client = console_client(Operator.Role.DPO)
    request = record(client, requester_email="robin@home.example")
    delivered(smtp)
    act(client, request, action="await_identity")
    [asked] = delivered(smtp)
    assert asked["Subject"] == "Please confirm your access request is yours"
    [path] = product_links(smtp, asked, settings.BASE_DOMAIN)

    on_day(monkeypatch, D(2026, 11, 16))
    person = host_client(settings.BASE_DOMAIN)  # not signed in
    done = follow(person, path)
    assert done.status_code == 200 and "16 December 2026" in done.content.decode()
    request.refresh_from_db()
    assert (request.state, request.clock_started_on, request.email_verified_on) == ("in_progress", D(2026, 11, 16),
                                                                                    D(2026, 11, 16))
    before = ChangeLogEntry.objects.count()
    assert person.get(path).status_code == 410  # once only
    assert ChangeLogEntry.objects.count() == before


def test_an_extension_is_mailed_with_its_reason_and_refused_after_the_first_month(smtp, monkeypatch):
    client = console_client(Operator.Role.DPO)
    request = record(client, requester_email="robin@home.example")
    late = record(client, requester_email="sam@home.example")
    delivered(smtp)
    act(client, request, action="extend", months=2, reason="Several requests at once", told_on="2026-11-02")
    [told] = delivered(smtp)
    assert told["To"] == "robin@home.example" and told["Subject"] == "Your access request needs more time"
    assert "Several requests at once" in smtp.text(told) and "2 February 2027" in smtp.text(told)

    on_day(monkeypatch, D(2026, 12, 3))  # the first month ended on 2 December
    before = (ChangeLogEntry.objects.count(), OutgoingMessage.objects.count())
    response = act(client, late, action="extend", months=1, reason="Too late", told_on="2026-12-03")
    late.refresh_from_db()
    assert response.status_code == 302 and (late.state, late.extension_months) == ("received", 0)
    assert (ChangeLogEntry.objects.count(), OutgoingMessage.objects.count()) == before
    assert "within the first month" in client.get(f"/console/requests/{late.pk}/").content.decode()


def test_a_refusal_gives_its_reasons_and_the_right_to_complain_to_the_ico(smtp):
    client = console_client(Operator.Role.DPO)
    request = record(client, requester_email="robin@home.example", kind="erasure")
    delivered(smtp)
    act(client, request, action="refuse", reason="We must keep invoices for six years (HMRC).")
    [refusal] = delivered(smtp)
    assert refusal["Subject"] == "Your erasure request: our answer"
    assert "We must keep invoices for six years (HMRC)." in smtp.text(refusal) and ICO in smtp.text(refusal)
    assert ICO in smtp.html(refusal) and 'href="https://ico' not in smtp.html(refusal)
    assert product_links(smtp, refusal, settings.BASE_DOMAIN) == []
    before = (ChangeLogEntry.objects.count(), OutgoingMessage.objects.count())
    act(client, request, action="refuse", reason="Again")  # closed already: refused, nothing sent
    assert (ChangeLogEntry.objects.count(), OutgoingMessage.objects.count()) == before


def test_a_vendor_answer_is_mailed(smtp):
    client = console_client(Operator.Role.DPO)
    request = record(client, requester_email="robin@home.example")
    act(client, request, action="start")
    delivered(smtp)
    act(client, request, action="complete")
    [answer] = delivered(smtp)
    assert answer["Subject"] == "Your access request is answered" and ICO in smtp.text(answer)


# --- a school's requests (the school's site) -------------------------------------------------

def school_request(oakfield, password, *, email="parent@home.example") -> tuple:
    admin = school_client(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.exclude(upn="").first()
        other = Pupil.objects.exclude(pk=pupil.pk).exclude(upn="").first()
    response = admin.post("/rights/", {"kind": "access", "subject": f"pupil:{pupil.pk}", "requester_name": "A Parent",
                                       "requester_email": email, "received_on": "2026-11-02"})
    assert response.status_code == 302, response.content[:3000]
    return admin, int(response["Location"].rstrip("/").rsplit("/", 1)[1]), pupil, other


def no_pupil_data(smtp, message, *pupils) -> None:
    body = smtp.text(message) + smtp.html(message) + message["Subject"]
    for pupil in pupils:
        assert pupil.upn not in body and pupil.surname not in body


def test_a_school_request_is_acknowledged_in_the_schools_name(oakfield, password, smtp):
    _, _, pupil, other = school_request(oakfield, password)
    [ack] = delivered(smtp)
    assert ack["To"] == "parent@home.example" and ack["Subject"] == "We have received your access request"
    assert oakfield.school.name in smtp.text(ack) and "2 December 2026" in smtp.text(ack)
    no_pupil_data(smtp, ack, pupil, other)


def test_the_export_link_goes_only_to_a_verified_address_and_works_once(oakfield, riverside, password, smtp,
                                                                         monkeypatch):
    admin, request_id, pupil, other = school_request(oakfield, password)
    admin.post(f"/rights/{request_id}/", {"action": "start"})
    delivered(smtp)
    with schema_context(oakfield.school.schema_name):
        before = (ExportLink.objects.count(), SchoolRequest.objects.get(pk=request_id).state)
    page = admin.get(f"/rights/{request_id}/").content.decode()
    assert "not verified, so the export's link is not mailed" in page and 'value="export_send"' not in page
    refused = admin.post(f"/rights/{request_id}/", {"action": "export_send"}, follow=True).content.decode()
    assert "not verified" in refused
    with schema_context(oakfield.school.schema_name):
        assert (ExportLink.objects.count(), SchoolRequest.objects.get(pk=request_id).state) == before
    assert delivered(smtp) == []

    # the school asks for proof of identity: the link (on the school's site) verifies the address
    with schema_context(oakfield.school.schema_name):
        SchoolRequest.objects.filter(pk=request_id).update(state="received")
    admin.post(f"/rights/{request_id}/", {"action": "await_identity"})
    [asked] = delivered(smtp)
    [path] = product_links(smtp, asked, oakfield.hostname)
    no_pupil_data(smtp, asked, pupil, other)
    assert host_client(riverside.hostname).get(path).status_code == 404  # another school's site knows nothing
    on_day(monkeypatch, D(2026, 11, 9))
    assert follow(host_client(oakfield.hostname), path).status_code == 200

    admin.post(f"/rights/{request_id}/", {"action": "export_send"})
    [answer] = delivered(smtp)
    assert answer["To"] == "parent@home.example" and answer["Subject"] == "Your access request is answered"
    no_pupil_data(smtp, answer, pupil, other)
    [download] = product_links(smtp, answer, oakfield.hostname)
    with schema_context(oakfield.school.schema_name):
        done = SchoolRequest.objects.get(pk=request_id)
        assert (done.state, done.email_verified_on, done.exports.count()) == ("completed", D(2026, 11, 9), 1)
    person = host_client(oakfield.hostname)
    first = person.get(download)
    assert first.status_code == 200 and first.content[:2] == b"PK"
    assert person.get(download).status_code == 410


def test_a_vendor_export_link_goes_only_to_a_verified_address_and_works_once(smtp, monkeypatch):
    from shared.privacy.models import VendorExportLink

    client = console_client(Operator.Role.DPO)
    request = record(client, requester_email="robin@home.example")
    act(client, request, action="start")
    delivered(smtp)
    assert "not verified, so the export's link is not mailed" in client.get(f"/console/requests/{request.pk}/").content.decode()
    before = (VendorExportLink.objects.count(), ChangeLogEntry.objects.count())
    act(client, request, action="export_send")
    request.refresh_from_db()
    assert request.state == "in_progress" and (VendorExportLink.objects.count(), ChangeLogEntry.objects.count()) == before
    assert delivered(smtp) == []

    SubjectRequest.objects.filter(pk=request.pk).update(state="received")
    act(client, request, action="await_identity")
    [asked] = delivered(smtp)
    [path] = product_links(smtp, asked, settings.BASE_DOMAIN)
    follow(host_client(settings.BASE_DOMAIN), path)
    act(client, request, action="export_send")
    [answer] = delivered(smtp)
    assert answer["To"] == "robin@home.example" and answer["Subject"] == "Your access request is answered"
    [download] = product_links(smtp, answer, settings.BASE_DOMAIN)
    request.refresh_from_db()
    assert request.state == "completed"
    person = host_client(settings.BASE_DOMAIN)
    assert person.head(download).status_code == 200  # a mail scanner's HEAD spends nothing
    first = person.get(download)
    assert first.status_code == 200 and first.content[:2] == b"PK"
    assert person.get(download).status_code == 410
    assert bytes(VendorExportLink.objects.get(request=request).content) == b""  # emptied as it was handed out
