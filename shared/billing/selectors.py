"""Reads on billing records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Round

from shared import clock
from shared.billing.models import ZERO, CreditNote, Invoice, InvoiceLine, Payment


@dataclass(frozen=True)
class InvoiceTotals:
    net: Decimal
    vat: Decimal
    gross: Decimal
    paid: Decimal
    credited: Decimal

    @property
    def balance(self) -> Decimal:
        return self.gross - self.paid - self.credited


def invoice_totals(invoice: Invoice) -> InvoiceTotals:
    """Net, VAT (rounded per line), gross, paid, credited; balance = gross - paid - credited."""
    lines = list(InvoiceLine.objects.filter(invoice=invoice))
    net = sum((line.net for line in lines), ZERO)
    vat = sum((line.vat for line in lines), ZERO)
    paid = Payment.objects.filter(invoice=invoice).aggregate(total=Sum("amount"))["total"] or ZERO
    credited = CreditNote.objects.filter(invoice=invoice).aggregate(total=Sum("amount"))["total"] or ZERO
    return InvoiceTotals(net=net, vat=vat, gross=net + vat, paid=paid, credited=credited)


_MONEY = DecimalField(max_digits=14, decimal_places=2)


def _sum_of(model, expression) -> Subquery:
    return Coalesce(
        Subquery(model.objects.filter(invoice=OuterRef("pk")).values("invoice")
                 .annotate(total=Sum(expression)).values("total")[:1], output_field=_MONEY),
        Value(ZERO), output_field=_MONEY,
    )


def invoice_list(*, school_id: int | None = None) -> QuerySet[Invoice]:
    """Invoices with ``gross`` and ``balance`` annotated, in one query."""
    net = Round(F("quantity") * F("unit_price"), 2)
    line_gross = ExpressionWrapper(net + Round(net * F("vat_rate") / 100, 2), output_field=_MONEY)
    queryset = Invoice.objects.select_related("school").annotate(
        gross=_sum_of(InvoiceLine, line_gross),
        settled=_sum_of(Payment, "amount") + _sum_of(CreditNote, "amount"),
    ).annotate(balance=ExpressionWrapper(F("gross") - F("settled"), output_field=_MONEY))
    if school_id is not None:
        queryset = queryset.filter(school_id=school_id)
    return queryset


def invoices_overdue(*, today: dt.date | None = None) -> QuerySet[Invoice]:
    """Issued invoices past their due date with money still owed."""
    return invoice_list().filter(status=Invoice.Status.ISSUED, due_on__lt=today or clock.today(), balance__gt=0)
