"""Tax records on the database: an invoice, its lines and its payments go 8 years after the end of the
UK tax year they relate to (the latest of the invoice's, its payments' and its credit notes'), not a
day earlier, and another invoice stays."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from orchestration.retention.run import retention_run
from shared import clock
from shared.billing import selectors, services
from shared.billing.models import Invoice, InvoiceLine, Payment
from shared.changes import Actor
from shared.operators.models import Operator
from shared.privacy.models import DeletionRecord

pytestmark = pytest.mark.django_db
LINE = services.LineInput("Subscription", Decimal("1"), Decimal("1000.00"))
MOMENT = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def issued(monkeypatch, oakfield):
    """Invoices of 5 April 2026 (tax year 2025-26, ends 5 April 2026) and 6 April 2026 (2026-27), and one
    of 5 April 2026 paid on 6 April 2026, which makes it a record of 2026-27 too."""
    monkeypatch.setattr(clock, "now", lambda: MOMENT)
    actor = Actor.operator(Operator.objects.get(role=Operator.Role.BILLING).user)

    def invoice(day: dt.date) -> Invoice:
        return services.invoice_issue(actor=actor, school=oakfield.school, issued_on=day,
                                      due_on=day + dt.timedelta(days=30), lines=[LINE])

    fifth, sixth, paid_later = invoice(dt.date(2026, 4, 5)), invoice(dt.date(2026, 4, 6)), invoice(dt.date(2026, 4, 5))
    services.payment_record(actor=actor, invoice=paid_later, paid_on=dt.date(2026, 4, 6),
                            amount=selectors.invoice_totals(paid_later).balance)
    return fifth, sixth, paid_later


def kept(*invoices: Invoice) -> list[bool]:
    return [Invoice.objects.filter(pk=invoice.pk).exists() for invoice in invoices]


def test_an_invoice_goes_8_years_after_the_end_of_its_tax_year(issued):
    fifth, sixth, paid_later = issued

    retention_run(as_of=dt.date(2034, 4, 4), scope="public")  # the day before 8 years from 5 April 2026
    assert kept(fifth, sixth, paid_later) == [True, True, True]

    retention_run(as_of=dt.date(2034, 4, 5), scope="public")
    assert kept(fifth, sixth, paid_later) == [False, True, True]
    assert InvoiceLine.objects.filter(invoice_id=fifth.pk).count() == 0
    assert DeletionRecord.objects.filter(kind="tax_record", unit=f"invoice:{fifth.pk}").count() == 1

    retention_run(as_of=dt.date(2035, 4, 4), scope="public")
    assert kept(sixth, paid_later) == [True, True]

    retention_run(as_of=dt.date(2035, 4, 5), scope="public")
    assert kept(sixth, paid_later) == [False, False]
    assert Payment.objects.filter(invoice_id=paid_later.pk).count() == 0
