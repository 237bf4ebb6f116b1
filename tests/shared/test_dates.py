"""Typed and imported dates fall in a sensible range, read from the clock when they are checked:
received/paid dates not in the future nor before 1990, due dates at most five years ahead."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from shared import clock, dates
from shared.billing.models import Invoice, Payment
from shared.billing.services import LineInput, invoice_issue, payment_record
from shared.changes import Actor
from shared.compliance import breaches as compliance
from shared.compliance.models import Breach
from shared.operators.models import Operator
from shared.privacy.holds import legal_hold_place
from shared.privacy.models import LegalHold
from tests.helpers import console_client, form_token

NOW = dt.datetime(2030, 12, 31, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def pinned(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    return NOW.date()


@pytest.fixture
def actor(django_db_setup) -> Actor:
    return Actor.operator(Operator.objects.get(role=Operator.Role.ADMINISTRATOR).user)


def test_the_ranges_are_read_from_the_clock_when_checked(pinned):
    assert dates.PAST.bounds() == (dt.date(1990, 1, 1), dt.date(2030, 12, 31))
    assert dates.PLANNED.bounds() == (dt.date(1990, 1, 1), dt.date(2035, 12, 31))
    assert dates.BIRTH.bounds() == (dt.date(1900, 1, 1), dt.date(2030, 12, 31))
    assert [dates.PAST.contains(d) for d in (dt.date(1989, 12, 31), dt.date(1990, 1, 1), pinned, dt.date(2031, 1, 1))] == \
        [False, True, True, False]
    assert dates.PAST.contains(dt.datetime(2030, 12, 31, 23, 30, tzinfo=dt.timezone.utc)) is True  # a datetime's UK date
    assert dates.PAST.contains(dt.datetime(2031, 1, 1, 0, 30, tzinfo=dt.timezone.utc)) is False


def test_the_form_fields_refuse_a_date_out_of_range_naming_it(pinned):
    class Form(dates.forms.Form):
        paid_on = dates.PastDateField()
        due_on = dates.PlannedDateField()
        aware_at = dates.PastDateTimeField()

    form = Form({"paid_on": "9999-12-31", "due_on": "2066-01-01", "aware_at": "1980-05-01T10:00"})

    assert form.errors == {"paid_on": ["Enter a date between 1 January 1990 and today."],
                           "due_on": ["Enter a date between 1 January 1990 and 31 December 2035."],
                           "aware_at": ["Enter a date between 1 January 1990 and today."]}
    assert Form({"paid_on": "2030-12-31", "due_on": "2035-12-31", "aware_at": "1990-01-01T00:00"}).is_valid()


@pytest.mark.django_db
def test_the_console_refuses_a_payment_dated_9999_and_saves_nothing(oakfield):
    client = console_client(Operator.Role.BILLING)
    invoice = Invoice.objects.filter(school=oakfield.school, status=Invoice.Status.ISSUED).first()
    token = form_token(client.get(f"/console/invoices/{invoice.pk}/"))
    before = Payment.objects.count()

    response = client.post(f"/console/invoices/{invoice.pk}/payments/",
                           {"paid_on": "9999-12-31", "amount": "1", "method": "bacs", "form_token": token})

    assert response.status_code == 200 and b"Enter a date between 1 January 1990 and today." in response.content
    assert Payment.objects.count() == before


@pytest.mark.django_db
def test_the_billing_services_refuse_dates_out_of_range(oakfield, actor):
    invoice = Invoice.objects.filter(school=oakfield.school, status=Invoice.Status.ISSUED).first()
    counts = (Payment.objects.count(), Invoice.objects.count())
    today = clock.today()

    with pytest.raises(ValidationError) as paid:
        payment_record(actor=actor, invoice=invoice, paid_on=dt.date(9999, 12, 31), amount="1")
    with pytest.raises(ValidationError) as due:
        invoice_issue(actor=actor, school=oakfield.school, issued_on=today, due_on=clock.add_months(today, 12 * 40),
                      lines=[LineInput("Licence", 1, 100)])
    with pytest.raises(ValidationError) as issued:
        invoice_issue(actor=actor, school=oakfield.school, issued_on=today + dt.timedelta(days=1),
                      due_on=clock.add_months(today, 1), lines=[LineInput("Licence", 1, 100)])

    assert set(paid.value.message_dict) == {"paid_on"}
    assert set(due.value.message_dict) == {"due_on"}
    assert set(issued.value.message_dict) == {"issued_on"}
    assert (Payment.objects.count(), Invoice.objects.count()) == counts


@pytest.mark.django_db
def test_holds_and_breaches_refuse_dates_out_of_range(actor):
    before = (LegalHold.objects.count(), Breach.objects.count())

    with pytest.raises(ValidationError) as hold:
        legal_hold_place(actor=actor, reason="Claim", owner="DPO", starts_on=clock.today(),
                         ends_on=dt.date(9999, 12, 31), category="tax")
    with pytest.raises(ValidationError) as breach:
        compliance.breach_record(actor=actor, summary="Lost laptop", nature="Left on a train.", risk="high",
                                 aware_at=dt.datetime(1980, 1, 1, tzinfo=dt.timezone.utc), people_categories=["pupil"],
                                 data_categories=["pupil"], consequences="x", measures="y")

    assert set(hold.value.message_dict) == {"ends_on"}
    assert set(breach.value.message_dict) == {"aware_at"}
    assert (LegalHold.objects.count(), Breach.objects.count()) == before
