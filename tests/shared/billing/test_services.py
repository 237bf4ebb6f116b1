"""Invoices, VAT, payments, credit notes and the UK tax year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from shared import clock
from shared.billing import selectors, services
from shared.billing.models import CreditNote, Invoice, InvoiceLine, Payment
from shared.changes import Actor
from shared.operators.models import Operator

pytestmark = pytest.mark.django_db
LINE = services.LineInput("Subscription", Decimal("1"), Decimal("1000.00"))


@pytest.fixture
def actor() -> Actor:
    return Actor.operator(Operator.objects.get(role=Operator.Role.BILLING).user)


def counts():
    return [model.objects.count() for model in (Invoice, InvoiceLine, Payment, CreditNote)]


@pytest.mark.parametrize(("day", "tax_year", "label"), [
    (dt.date(2026, 4, 5), 2025, "2025-26"),
    (dt.date(2026, 4, 6), 2026, "2026-27"),
    (dt.date(2027, 1, 1), 2026, "2026-27"),
])
def test_uk_tax_year(day, tax_year, label):
    assert clock.uk_tax_year(day) == tax_year
    assert clock.uk_tax_year_label(tax_year) == label


def test_invoices_dated_5_and_6_april_fall_in_different_tax_years(actor, oakfield):
    before = services.invoice_issue(actor=actor, school=oakfield.school, issued_on=dt.date(2026, 4, 5),
                                    due_on=dt.date(2026, 5, 5), lines=[LINE])
    after = services.invoice_issue(actor=actor, school=oakfield.school, issued_on=dt.date(2026, 4, 6),
                                   due_on=dt.date(2026, 5, 6), lines=[LINE])

    assert (before.tax_year_label, after.tax_year_label) == ("2025-26", "2026-27")


def test_totals_round_vat_per_line_and_agree_with_the_listing(actor, oakfield):
    invoice = services.invoice_issue(actor=actor, school=oakfield.school, issued_on=dt.date(2026, 9, 1),
                                     due_on=dt.date(2026, 10, 1), lines=[
                                         services.LineInput("Training", Decimal("3"), Decimal("33.33")),
                                         services.LineInput("Books (zero-rated)", Decimal("1"), Decimal("10.00"), Decimal("0")),
                                     ])

    totals = selectors.invoice_totals(invoice)
    listed = selectors.invoice_list().get(pk=invoice.pk)
    assert (totals.net, totals.vat, totals.gross) == (Decimal("109.99"), Decimal("20.00"), Decimal("129.99"))
    assert (listed.gross, listed.balance) == (Decimal("129.99"), Decimal("129.99"))


@pytest.mark.parametrize(("issued_on", "due_on", "lines"), [
    (dt.date(2026, 9, 1), dt.date(2026, 8, 1), [LINE]),
    (dt.date(2026, 9, 1), dt.date(2026, 10, 1), []),
    (dt.date(2026, 9, 1), dt.date(2026, 10, 1), [services.LineInput("Refund?", Decimal("1"), Decimal("-5"))]),
    (dt.date(2026, 9, 1), dt.date(2026, 10, 1), [services.LineInput("x", Decimal("0"), Decimal("5"))]),
    (dt.date(2026, 9, 1), dt.date(2026, 10, 1), [services.LineInput("", Decimal("1"), Decimal("5"))]),
])
def test_bad_invoices_are_refused_and_nothing_is_saved(actor, oakfield, issued_on, due_on, lines):
    before = counts()

    with pytest.raises(ValidationError):
        services.invoice_issue(actor=actor, school=oakfield.school, issued_on=issued_on, due_on=due_on, lines=lines)

    assert counts() == before


def test_payments_settle_an_invoice_and_know_their_own_tax_year(actor, oakfield):
    invoice = services.invoice_issue(actor=actor, school=oakfield.school, issued_on=dt.date(2026, 3, 20),
                                     due_on=dt.date(2026, 4, 20), lines=[LINE])

    first = services.payment_record(actor=actor, invoice=invoice, paid_on=dt.date(2026, 4, 1), amount="200")
    services.credit_note_issue(actor=actor, invoice=invoice, issued_on=dt.date(2026, 4, 10), amount="100",
                               reason="Late start")
    last = services.payment_record(actor=actor, invoice=invoice, paid_on=dt.date(2026, 4, 15), amount="900.00")

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert (first.tax_year, last.tax_year) == (2025, 2026)
    assert selectors.invoice_totals(invoice).balance == Decimal("0.00")


@pytest.mark.parametrize("amount", ["-10", "0", "1200.01", "lots"])
def test_bad_payments_are_refused_and_nothing_is_saved(actor, oakfield, amount):
    invoice = services.invoice_issue(actor=actor, school=oakfield.school, issued_on=dt.date(2026, 9, 1),
                                     due_on=dt.date(2026, 10, 1), lines=[LINE])
    before = counts()

    with pytest.raises(ValidationError) as error:
        services.payment_record(actor=actor, invoice=invoice, paid_on=dt.date(2026, 9, 2), amount=amount)

    assert "amount" in error.value.message_dict
    assert counts() == before


def test_overdue_means_issued_past_due_and_unpaid(actor, oakfield):
    overdue = services.invoice_issue(actor=actor, school=oakfield.school, issued_on=dt.date(2026, 1, 1),
                                     due_on=dt.date(2026, 1, 31), lines=[LINE])
    not_yet = services.invoice_issue(actor=actor, school=oakfield.school, issued_on=dt.date(2026, 1, 1),
                                     due_on=dt.date(2026, 3, 31), lines=[LINE])
    paid = services.invoice_issue(actor=actor, school=oakfield.school, issued_on=dt.date(2026, 1, 1),
                                  due_on=dt.date(2026, 1, 31), lines=[LINE])
    services.payment_record(actor=actor, invoice=paid, paid_on=dt.date(2026, 1, 20), amount="1200")

    found = set(selectors.invoices_overdue(today=dt.date(2026, 2, 1)).values_list("pk", flat=True))

    assert overdue.pk in found and not_yet.pk not in found and paid.pk not in found
