"""The mail the vendor's work sends, against the real SMTP server (``smtp``): support access to a school's
admins (requested, expired), breach notices to the people affected (marked per person), the DPOs' and
school admins' daily digest (once a day), and a new privacy notice or Terms of Use to those it concerns.
Each link is followed with the test client and opens the right page; no message holds a UPN or a
pupil's name; every refusal sends and changes nothing."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from ops.demo import DEMO_OPERATORS
from orchestration import notify, requests
from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.changes import Actor
from shared.clients.models import Contact
from shared.compliance import breaches, notices, terms_of_use
from shared.compliance.models import Breach, BreachNotification
from shared.mail import services as mail_services
from shared.mail.models import OutgoingMessage
from shared.operators.models import Operator
from shared.privacy.requests import services as vendor_requests
from shared.support.models import SupportAccessRequest
from tenants.pupils.models import Pupil
from tests.helpers import console_client, host_client, school_client
from tests.mail_fixtures import mail_deliver_all
from tests.shared.support.helpers import approve, ask, decide, support_operator
from tests.tenants.rights.test_tools import open_request

pytestmark = pytest.mark.django_db
UK = ZoneInfo("Europe/London")
DPO_EMAIL = DEMO_OPERATORS[Operator.Role.DPO][0]


@pytest.fixture
def dpo() -> Actor:
    return Actor.operator(Operator.objects.get(user__email=DPO_EMAIL).user)


@pytest.fixture
def actor(dpo) -> Actor:
    return dpo


@pytest.fixture
def make_breach(dpo):
    def make(*, risk: str) -> Breach:
        return breaches.breach_record(
            actor=dpo, summary="Class list sent to the wrong school", nature="A class list went to another school.",
            aware_at=clock.now() - dt.timedelta(hours=2), risk=risk, people_categories=["pupils"],
            data_categories=["pupil"], consequences="Names seen by another school's office.",
            measures="Deleted by the recipient.")
    return make


def pin(monkeypatch, moment: dt.datetime) -> None:
    monkeypatch.setattr(clock, "now", lambda: moment)


def to_of(message) -> list[str]:
    return sorted(a.strip().lower() for a in message["To"].split(","))


def by_recipient(smtp) -> dict[str, list]:
    found: dict[str, list] = {}
    for message in smtp.messages:
        for address in to_of(message):
            found.setdefault(address, []).append(message)
    return found


def pupil_data(*seeded) -> list[str]:
    """Every UPN and pupil name of the schools: none may appear in any message."""
    values = []
    for school in seeded:
        with schema_context(school.school.schema_name):
            for upn, forename, surname in Pupil.objects.values_list("upn", "forename", "surname"):
                values += [v for v in (upn, f"{forename} {surname}") if v]
    return values


def assert_no_pupil_data(smtp, *seeded) -> None:
    forbidden = pupil_data(*seeded)
    for message in smtp.messages:
        whole = f"{message['Subject']}\n{smtp.text(message)}\n{smtp.html(message)}"
        assert not [v for v in forbidden if v in whole], message["Subject"]


def follow(client, url: str):
    """Open a mailed link as its host's browser would: the path on the link's own host."""
    parts = urlsplit(url)
    client.defaults["HTTP_HOST"] = parts.netloc
    return client.get(parts.path + (f"?{parts.query}" if parts.query else ""))


def link_to(smtp, message, path_part: str) -> str:
    links = [url for url in smtp.links(message) if path_part in url]
    assert links, smtp.links(message)
    return links[0]


def nothing_changed_since(before: tuple) -> None:
    assert (OutgoingMessage.objects.count(), ChangeLogEntry.objects.count()) == before


def counts() -> tuple:
    return OutgoingMessage.objects.count(), ChangeLogEntry.objects.count()


# --- Support access ---------------------------------------------------------------------------------


def test_a_support_request_mails_each_admin_of_that_school_a_link_to_decide(smtp, oakfield, riverside, password):
    console = console_client(Operator.Role.SUPPORT)

    response = console.post(f"/console/support/clients/{oakfield.school.pk}/request/",
                            {"ticket_reference": "T-77", "reason": "Targets missing for Year 9", "duration_hours": 4})

    assert response.status_code == 302
    mail_deliver_all()
    received = by_recipient(smtp)
    assert list(received) == [oakfield.demo.head_email]  # Riverside's admins hear nothing
    [message] = received[oakfield.demo.head_email]
    assert message["Subject"] == f"Support access requested for {oakfield.demo.name}: approve or refuse"
    assert "T-77" in smtp.text(message)
    link = link_to(smtp, message, "/support/")
    assert urlsplit(link).netloc.startswith(oakfield.hostname)
    page = follow(school_client(oakfield, oakfield.demo.head_email, password), link)
    access_request = SupportAccessRequest.objects.get(school=oakfield.school, ticket_reference="T-77")
    assert page.status_code == 200 and [r.pk for r in page.context["pending"]] == [access_request.pk]
    assert_no_pupil_data(smtp, oakfield, riverside)


def test_a_refused_support_request_sends_nothing_and_changes_nothing(smtp, oakfield):
    operator = support_operator()
    ask(operator, oakfield)
    before = counts(), SupportAccessRequest.objects.count()

    with pytest.raises(ValidationError, match="already have a request waiting"):
        notify.support_request_make(operator=operator, school=oakfield.school, ticket_reference="T-2", reason="Again",
                                    duration_hours=2)

    assert (counts(), SupportAccessRequest.objects.count()) == before
    mail_deliver_all()
    assert smtp.messages == []


def test_an_expired_grant_is_told_to_the_schools_admins_once(smtp, oakfield, riverside, password, monkeypatch):
    operator = support_operator()
    grant = approve(oakfield, ask(operator, oakfield, ticket_reference="T-9", duration_hours=2))
    revoked = approve(riverside, ask(operator, riverside, ticket_reference="T-10", duration_hours=2))
    from shared.support.services import support_grant_revoke
    decide(riverside, support_grant_revoke, revoked)
    mail_deliver_all()
    smtp.clear()

    pin(monkeypatch, grant.expires_at - dt.timedelta(minutes=1))
    assert notify.support_grants_expired_notify() == 0  # not yet
    pin(monkeypatch, grant.expires_at + dt.timedelta(minutes=5))
    assert notify.support_grants_expired_notify() == 1
    assert notify.support_grants_expired_notify() == 0  # once

    mail_deliver_all()
    [message] = smtp.messages
    assert to_of(message) == [oakfield.demo.head_email]
    assert message["Subject"] == f"Support access to {oakfield.demo.name} has ended"
    grant.refresh_from_db()
    assert grant.expiry_notified_at == grant.expires_at + dt.timedelta(minutes=5)
    page = follow(school_client(oakfield, oakfield.demo.head_email, password), link_to(smtp, message, "/support/"))
    assert page.status_code == 200


# --- Breach notices to the people affected -----------------------------------------------------------


PEOPLE = ["parent.one@example.org", "parent.two@example.org", "pupil.three@example.org"]
TOLD = "On 3 March a class list was sent to the wrong school. Contact dpo@pupiltracking.example with questions."


def test_a_high_risk_breach_is_mailed_to_each_person_and_marked_per_person(smtp, make_breach, oakfield, riverside):
    breach = make_breach(risk=Breach.Risk.HIGH)
    console = console_client(Operator.Role.DPO)

    response = console.post(f"/console/compliance/breaches/{breach.pk}/email-people/",
                            {"addresses": "\n".join(PEOPLE + [PEOPLE[0].upper()]), "content": TOLD})

    assert response.status_code == 302
    notes = list(breach.notifications.order_by("recipient"))
    assert [(n.recipient, n.audience, n.method, n.delivery) for n in notes] == [
        (a, BreachNotification.Audience.PEOPLE, BreachNotification.Method.EMAIL, "queued") for a in PEOPLE]
    # One message fails for good (set aside after its retries); the others are delivered.
    failing = next(n for n in notes if n.recipient == PEOPLE[2])
    mail_services.message_failed(failing.message_id)
    mail_deliver_all()

    received = by_recipient(smtp)
    assert sorted(received) == PEOPLE[:2]
    for address in PEOPLE[:2]:
        [message] = received[address]
        assert message["Subject"] == f"A personal data breach that affects you ({breach.reference})"
        assert TOLD in smtp.text(message)
        assert follow(host_client(settings.BASE_DOMAIN), link_to(smtp, message, "/privacy/")).status_code == 200
    page = console.get(f"/console/compliance/breaches/{breach.pk}/")
    assert page.status_code == 200
    assert {n.recipient: n.delivery for n in breach.notifications.all()} == {
        PEOPLE[0]: "sent", PEOPLE[1]: "sent", PEOPLE[2]: "failed"}
    assert "The risk is high: record notifying the people affected." not in breaches.breach_close_problems(breach)
    assert_no_pupil_data(smtp, oakfield, riverside)


@pytest.mark.parametrize("risk", [Breach.Risk.LOW, Breach.Risk.MEDIUM])
def test_people_are_not_mailed_about_a_breach_whose_risk_is_not_high(smtp, make_breach, risk):
    breach = make_breach(risk=risk)
    before = counts(), BreachNotification.objects.count()

    page = console_client(Operator.Role.DPO).post(f"/console/compliance/breaches/{breach.pk}/email-people/",
                                                  {"addresses": PEOPLE[0], "content": TOLD})

    assert page.status_code == 200
    assert "Only a breach whose risk to people is high" in page.content.decode()
    assert (counts(), BreachNotification.objects.count()) == before
    mail_deliver_all()
    assert smtp.messages == []


@pytest.mark.parametrize(("addresses", "content", "error"), [
    ("parent.one@example.org\nnot-an-address", TOLD, "Not an email address: not-an-address"),
    ("", TOLD, "Give the email address"),
    (PEOPLE[0], "Your child's UPN A123456789012 was in the file.", "shaped like a pupil's UPN"),
    (PEOPLE[0], "   ", "Write what they are told"),
])
def test_a_bad_breach_mailing_is_refused_whole(smtp, actor, make_breach, addresses, content, error):
    breach = make_breach(risk=Breach.Risk.HIGH)
    before = counts(), BreachNotification.objects.count()

    with pytest.raises(ValidationError, match=error):
        breaches.breach_people_notify(actor=actor, breach=breach, addresses=addresses, content=content)

    assert (counts(), BreachNotification.objects.count()) == before
    mail_deliver_all()
    assert smtp.messages == []


# --- The daily digest --------------------------------------------------------------------------------


def test_the_daily_digest_goes_to_the_dpo_and_each_schools_admins_once_a_day(smtp, dpo, oakfield, riverside,
                                                                            password, monkeypatch):
    start = dt.datetime(2031, 3, 3, 9, 0, tzinfo=UK)  # a Monday
    pin(monkeypatch, start)
    vendor_overdue = vendor_requests.request_receive(actor=dpo, kind="erasure", requester_name="Vera Vendor",
                                                     received_on=start.date())
    breach = breaches.breach_record(
        actor=dpo, summary="Laptop lost", nature="A laptop was lost.", aware_at=start - dt.timedelta(hours=1),
        risk=Breach.Risk.MEDIUM, people_categories=["pupils"], data_categories=["pupil"], consequences="Seen.",
        measures="Wiped remotely.")
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.order_by("pk").first()
        school_overdue = open_request(oakfield, "access", pupil)
    later = start + dt.timedelta(days=45)  # a Thursday: both requests overdue, the breach report too
    pin(monkeypatch, later)

    sent = requests.requests_flag()

    mail_deliver_all()
    received = by_recipient(smtp)
    assert sent == len(smtp.messages) == len(received)
    assert sorted(received) == sorted([DPO_EMAIL, oakfield.demo.head_email])  # Riverside has none overdue
    [to_dpo] = received[DPO_EMAIL]
    assert to_dpo["Subject"].startswith("Data protection: ") and "17 April 2031" in to_dpo["Subject"]
    dpo_console = console_client(Operator.Role.DPO)
    request_link = link_to(smtp, to_dpo, f"/console/requests/{vendor_overdue.pk}/")
    breach_link = link_to(smtp, to_dpo, f"/console/compliance/breaches/{breach.pk}/")
    assert follow(dpo_console, request_link).context["r"].pk == vendor_overdue.pk
    assert follow(dpo_console, breach_link).context["breach"].pk == breach.pk
    [to_head] = received[oakfield.demo.head_email]
    assert to_head["Subject"].startswith(f"{oakfield.demo.name}: ")
    school_link = link_to(smtp, to_head, f"/rights/{school_overdue.pk}/")
    assert urlsplit(school_link).netloc.startswith(oakfield.hostname)
    head = school_client(oakfield, oakfield.demo.head_email, password)
    assert follow(head, school_link).status_code == 200
    for message in smtp.messages:  # named by number and kind, never by whom
        assert "Vera Vendor" not in smtp.text(message) and "A Parent" not in smtp.text(message)
    assert_no_pupil_data(smtp, oakfield, riverside)

    smtp.clear()
    pin(monkeypatch, later + dt.timedelta(hours=3))
    again = requests.requests_flag()
    assert again == 0  # the same day: nothing again
    mail_deliver_all()
    assert smtp.messages == []
    pin(monkeypatch, later + dt.timedelta(days=1))  # the next working day
    assert requests.requests_flag() >= 2


# --- A new privacy notice, new Terms of Use -----------------------------------------------------------


def test_a_new_privacy_notice_is_mailed_to_current_client_contacts_only(smtp, dpo, oakfield, riverside,
                                                                        django_capture_on_commit_callbacks,
                                                                        monkeypatch):
    ended = Contact.objects.create(school=oakfield.school, full_name="Former Bursar", email="former@oakfield.example",
                                   ended_on=clock.today() - dt.timedelta(days=1))
    restricted = Contact.objects.create(school=riverside.school, full_name="Quiet Person",
                                        email="quiet@riverside.example", processing_restricted=True)
    no_email = Contact.objects.create(school=riverside.school, full_name="No Email")
    current = Contact.objects.filter(school__in=[oakfield.school, riverside.school], ended_on=None,
                                     processing_restricted=False).exclude(email="")
    expected = sorted(c.email.lower() for c in current)
    from orchestration import tasks
    sent_jobs = []
    monkeypatch.setattr(tasks.notice_change_mail, "send", lambda version_id: sent_jobs.append(version_id))

    with django_capture_on_commit_callbacks(execute=True):
        response = console_client(Operator.Role.DPO).post("/console/compliance/notice/", {
            "version": "9.9", "text": "Our new notice.\n\nWith more words.", "summary": "We say more about mail.",
            "published_on": clock.today().isoformat()})
    assert response.status_code == 302
    version = notices.notice_current()
    assert sent_jobs == [version.pk]  # one background job
    assert notify.notice_change_tell(version_id=version.pk) == len(expected)

    mail_deliver_all()
    received = by_recipient(smtp)
    assert sorted(received) == expected
    assert {ended.email, restricted.email, oakfield.demo.head_email, riverside.demo.head_email}.isdisjoint(received)
    assert no_email.pk
    message = received[expected[0]][0]
    assert message["Subject"] == "Our privacy notice has changed (version 9.9)"
    assert "We say more about mail." in smtp.text(message)
    assert "whatever your mail preferences" in smtp.text(message)  # legal: always sent, and says why
    page = follow(host_client(settings.BASE_DOMAIN), link_to(smtp, message, "/privacy/versions/"))
    assert page.status_code == 200 and "Our new notice." in page.content.decode()
    assert_no_pupil_data(smtp, oakfield, riverside)


def test_new_terms_of_use_are_mailed_to_each_schools_admins(smtp, dpo, oakfield, riverside, password):
    current = terms_of_use.terms_current()
    text = current.text + "\n\nOne more sentence."
    version = terms_of_use.terms_version_publish(actor=dpo, version="9.9", text=text, summary="One more sentence.")

    assert notify.terms_change_tell(version_id=version.pk) >= 2

    mail_deliver_all()
    received = by_recipient(smtp)
    assert {oakfield.demo.head_email, riverside.demo.head_email} <= set(received)
    contacts = set(Contact.objects.values_list("email", flat=True))
    assert contacts.isdisjoint(received)
    [message] = received[oakfield.demo.head_email]
    assert message["Subject"] == "New Terms of Use (version 9.9): please review and accept them"
    link = link_to(smtp, message, "/terms/")
    assert urlsplit(link).netloc.startswith(oakfield.hostname)
    page = follow(school_client(oakfield, oakfield.demo.head_email, password), link)
    assert page.status_code == 200 and "One more sentence." in page.content.decode()
    assert_no_pupil_data(smtp, oakfield, riverside)
    signed_out = follow(host_client(oakfield.hostname), link)  # the link asks a stranger to sign in first
    assert signed_out.status_code == 302 and "/accounts/login/" in signed_out["Location"]


def test_a_refused_publication_sends_nothing(smtp, dpo):
    current = notices.notice_current()
    before = counts()

    with pytest.raises(ValidationError, match="same as version"):
        notices.notice_version_publish(actor=dpo, version="9.8", text=current.text, summary="Nothing")

    nothing_changed_since(before)


def test_publishing_terms_in_the_console_sends_one_background_job(dpo, django_capture_on_commit_callbacks, monkeypatch):
    from orchestration import tasks

    current = terms_of_use.terms_current()
    sent_jobs = []
    monkeypatch.setattr(tasks.terms_change_mail, "send", lambda version_id: sent_jobs.append(version_id))

    with django_capture_on_commit_callbacks(execute=True):
        response = console_client(Operator.Role.DPO).post("/console/compliance/terms/", {
            "version": "9.7", "text": current.text + "\n\nAnother sentence.", "summary": "Another sentence.",
            "published_on": clock.today().isoformat()})

    assert response.status_code == 302
    assert sent_jobs == [terms_of_use.terms_current().pk]


def test_a_mailed_address_the_mail_service_refuses_stops_the_whole_breach_mailing(smtp, actor, make_breach):
    breach = make_breach(risk=Breach.Risk.HIGH)
    before = counts(), BreachNotification.objects.count()

    with pytest.raises(ValidationError, match="Not an address we can send to"):
        breaches.breach_people_notify(actor=actor, breach=breach, addresses=[PEOPLE[0], '"odd,one"@example.org'],
                                      content=TOLD)

    assert (counts(), BreachNotification.objects.count()) == before
