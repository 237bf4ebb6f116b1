"""Consent to optional communications (product news, webinars) to client contacts: recorded per
purpose with when and how, withdrawn from a moment, and the only list those communications go to
built from it, so that a withdrawal stops them from that moment and no consent means none."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.changes import Actor
from shared.clients import selectors, services
from shared.clients.models import Contact, ContactConsent, OptionalMail
from shared.operators.models import Operator
from tests.helpers import console_client

pytestmark = pytest.mark.django_db
GIVEN = timezone.make_aware(dt.datetime(2026, 11, 2, 10, 0))
WITHDRAWN = timezone.make_aware(dt.datetime(2026, 11, 20, 14, 30, 0))
SECOND = dt.timedelta(seconds=1)
NEWS, WEBINARS = OptionalMail.PRODUCT_NEWS, OptionalMail.WEBINARS


@pytest.fixture
def actor(django_db_setup) -> Actor:
    return Actor.operator(Operator.objects.get(role=Operator.Role.SUPPORT).user)


@pytest.fixture
def helen(oakfield) -> Contact:
    return oakfield.school.contacts.get()


@pytest.fixture
def samir(riverside) -> Contact:
    return riverside.school.contacts.get()


def at(monkeypatch, moment):
    monkeypatch.setattr(clock, "now", lambda: moment)


def on_list(purpose=NEWS, *, as_of=None) -> list[str]:
    return [c.full_name for c in selectors.contacts_for_optional_mail(purpose=purpose, as_of=as_of)]


def consent_log() -> list[tuple[str, list[str]]]:
    return list(ChangeLogEntry.objects.filter(object_type="clients.contactconsent").order_by("id")
                .values_list("action", "fields"))


def test_a_contact_who_never_consented_is_on_no_list(helen, samir):
    assert ContactConsent.objects.count() == 0
    assert on_list(NEWS) == [] and on_list(WEBINARS) == []


def test_withdrawal_takes_them_off_from_that_moment(helen, actor, monkeypatch):
    at(monkeypatch, GIVEN)
    services.contact_consent_give(actor=actor, contact=helen, purpose=NEWS, how="Ticked the box on the order form")
    at(monkeypatch, WITHDRAWN)
    services.contact_consent_withdraw(actor=actor, contact=helen, purpose=NEWS, how="Email of 20 November")

    assert on_list(as_of=GIVEN - SECOND) == []  # before it was given
    assert on_list(as_of=GIVEN) == ["Helen Morris"]
    assert on_list(as_of=WITHDRAWN - SECOND) == ["Helen Morris"]  # the list built a second before
    assert on_list(as_of=WITHDRAWN) == []
    assert on_list(as_of=WITHDRAWN + SECOND) == []  # and a second after
    at(monkeypatch, WITHDRAWN + SECOND)
    assert on_list() == []  # the list built now
    consent = ContactConsent.objects.get()
    assert (consent.given_at, consent.withdrawn_at, consent.given_how, consent.withdrawn_how) == \
        (GIVEN, WITHDRAWN, "Ticked the box on the order form", "Email of 20 November")


def test_consent_is_per_purpose(helen, actor):
    services.contact_consent_give(actor=actor, contact=helen, purpose=WEBINARS, how="Signed up to a webinar")

    assert on_list(WEBINARS) == ["Helen Morris"] and on_list(NEWS) == []


def test_consent_given_again_after_a_withdrawal_keeps_the_history(helen, actor, monkeypatch):
    at(monkeypatch, GIVEN)
    services.contact_consent_give(actor=actor, contact=helen, purpose=NEWS, how="Order form")
    at(monkeypatch, WITHDRAWN)
    services.contact_consent_withdraw(actor=actor, contact=helen, purpose=NEWS)
    again = WITHDRAWN + dt.timedelta(days=3)
    at(monkeypatch, again)
    services.contact_consent_give(actor=actor, contact=helen, purpose=NEWS, how="Asked on the phone")

    assert ContactConsent.objects.filter(contact=helen).count() == 2
    assert on_list(as_of=WITHDRAWN + SECOND) == [] and on_list(as_of=again) == ["Helen Morris"]


def test_giving_and_withdrawing_are_change_logged_by_field_name(helen, actor):
    services.contact_consent_give(actor=actor, contact=helen, purpose=NEWS, how="Order form")
    services.contact_consent_withdraw(actor=actor, contact=helen, purpose=NEWS, how="Email")

    assert consent_log() == [("create", ["contact", "given_at", "given_how", "purpose", "recorded_by_id"]),
                             ("update", ["withdrawn_at", "withdrawn_how"])]


@pytest.mark.parametrize("case", ["no_how", "twice", "unknown_purpose", "withdraw_none", "withdraw_twice"])
def test_refusals_change_nothing(helen, actor, case):
    if case in ("twice", "withdraw_twice"):
        services.contact_consent_give(actor=actor, contact=helen, purpose=NEWS, how="Order form")
    if case == "withdraw_twice":
        services.contact_consent_withdraw(actor=actor, contact=helen, purpose=NEWS)
    before = list(ContactConsent.objects.values_list("pk", "given_at", "withdrawn_at"))
    logged = ChangeLogEntry.objects.count()
    attempt = {
        "no_how": lambda: services.contact_consent_give(actor=actor, contact=helen, purpose=NEWS, how="  "),
        "twice": lambda: services.contact_consent_give(actor=actor, contact=helen, purpose=NEWS, how="Again"),
        "unknown_purpose": lambda: services.contact_consent_give(actor=actor, contact=helen, purpose="spam", how="x"),
        "withdraw_none": lambda: services.contact_consent_withdraw(actor=actor, contact=helen, purpose=WEBINARS),
        "withdraw_twice": lambda: services.contact_consent_withdraw(actor=actor, contact=helen, purpose=NEWS),
    }[case]

    with pytest.raises(ValidationError):
        attempt()

    assert list(ContactConsent.objects.values_list("pk", "given_at", "withdrawn_at")) == before
    assert ChangeLogEntry.objects.count() == logged


def test_the_list_keeps_schools_apart_and_leaves_out_contacts_without_email(helen, samir, actor):
    services.contact_consent_give(actor=actor, contact=samir, purpose=NEWS, how="Order form")
    services.contact_update(actor=actor, contact=helen, email="")
    services.contact_consent_give(actor=actor, contact=helen, purpose=NEWS, how="Order form")

    assert on_list() == ["Samir Khan"]


def test_the_console_records_and_withdraws_a_consent_on_the_client_page(oakfield, helen, monkeypatch):
    client = console_client(Operator.Role.SUPPORT)
    url = f"/console/clients/{oakfield.school.pk}/contacts/{helen.pk}/consent/"
    at(monkeypatch, GIVEN)

    given = client.post(url, {"action": "give", "purpose": NEWS, "how": "Ticked the box at the conference"})
    page = client.get(f"/console/clients/{oakfield.school.pk}/").content.decode()
    at(monkeypatch, WITHDRAWN)
    withdrawn = client.post(url, {"action": "withdraw", "purpose": NEWS, "how": "Phone call"})

    assert given.status_code == withdrawn.status_code == 302
    assert "Product news and updates: consented 2 Nov 2026 10:00 (Ticked the box at the conference)" in page
    assert "Webinars, training events and surveys: <strong>no consent</strong>" in page
    assert ContactConsent.objects.get(contact=helen).withdrawn_at == WITHDRAWN
    page = client.get(f"/console/clients/{oakfield.school.pk}/").content.decode()
    assert "withdrawn 20 Nov 2026 14:30 (Phone call)" in page


def test_the_console_refuses_a_contact_of_another_school(oakfield, samir):
    client = console_client(Operator.Role.SUPPORT)

    response = client.post(f"/console/clients/{oakfield.school.pk}/contacts/{samir.pk}/consent/",
                           {"action": "give", "purpose": NEWS, "how": "Order form"})

    assert response.status_code == 404 and ContactConsent.objects.count() == 0


def test_billing_cannot_record_consents(oakfield, helen):
    response = console_client(Operator.Role.BILLING).post(
        f"/console/clients/{oakfield.school.pk}/contacts/{helen.pk}/consent/",
        {"action": "give", "purpose": NEWS, "how": "Order form"})

    assert response.status_code == 403 and ContactConsent.objects.count() == 0


def test_the_mailing_list_download_is_the_selectors_list_at_that_moment(helen, samir, actor, monkeypatch):
    at(monkeypatch, GIVEN)
    services.contact_consent_give(actor=actor, contact=helen, purpose=NEWS, how="Order form")
    services.contact_consent_give(actor=actor, contact=samir, purpose=NEWS, how="Order form")
    at(monkeypatch, WITHDRAWN)
    services.contact_consent_withdraw(actor=actor, contact=samir, purpose=NEWS)
    client = console_client(Operator.Role.SUPPORT)

    response = client.get(f"/console/mailing/contacts/{NEWS}.csv")
    at(monkeypatch, WITHDRAWN - SECOND)
    earlier = client.get(f"/console/mailing/contacts/{NEWS}.csv")

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["name", "email", "organisation", "role", "consented_at"],
                    ["Helen Morris", "office@oakfield.example", "Oakfield Primary", "School business manager",
                     "2026-11-02T10:00:00+00:00"]]
    assert [r[0] for r in list(csv.reader(io.StringIO(earlier.content.decode())))[1:]] == \
        ["Helen Morris", "Samir Khan"]
    assert client.get("/console/mailing/contacts/spam.csv").status_code == 404
    page = client.get("/console/mailing/").content.decode()
    assert "Client contacts: Product news and updates" in page
