"""Writes on invoices, payments and credit notes. Amounts are Decimal pounds; each record's tax
year is set from its own date. Bad input raises ValidationError and writes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from shared import clock
from shared.audit.services import change_log_record
from shared.billing.models import ZERO, CreditNote, Invoice, InvoiceLine, Payment
from shared.billing.selectors import invoice_totals
from shared.changes import Action, Actor
from shared.dates import PAST, PLANNED
from shared.schools.models import School

CREATE, UPDATE = Action.CREATE, Action.UPDATE


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal = Decimal("20.00")


def _money(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: "Enter an amount in pounds, such as 1250.00."}) from None
    if amount <= 0:
        raise ValidationError({field: "The amount must be more than zero."})
    return amount


def _next_number(sequence: str, prefix: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [f"public.{sequence}"])
        return f"{prefix}-{cursor.fetchone()[0]:06d}"


@transaction.atomic
def invoice_issue(*, actor: Actor, school: School, issued_on: dt.date, due_on: dt.date,
                  lines: Sequence[LineInput], notes: str = "") -> Invoice:
    """Issue an invoice with its lines. Its tax year is that of its issue date."""
    PAST.check(issued_on, field="issued_on")
    PLANNED.check(due_on, field="due_on")
    if due_on < issued_on:
        raise ValidationError({"due_on": "The due date cannot be before the issue date."})
    if not lines:
        raise ValidationError("An invoice needs at least one line.")
    for index, line in enumerate(lines, start=1):
        if not line.description.strip():
            raise ValidationError(f"Line {index} needs a description.")
        if line.quantity <= 0:
            raise ValidationError(f"Line {index}: the quantity must be more than zero.")
        if line.unit_price < 0 or line.vat_rate < 0:
            raise ValidationError(f"Line {index}: prices and VAT rates cannot be negative.")
    invoice = Invoice.objects.create(school=school, number=_next_number("billing_invoice_number_seq", "INV"),
                                     issued_on=issued_on, due_on=due_on, notes=notes.strip(),
                                     tax_year=clock.uk_tax_year(issued_on))
    InvoiceLine.objects.bulk_create(
        InvoiceLine(invoice=invoice, description=line.description.strip(), quantity=line.quantity,
                    unit_price=line.unit_price, vat_rate=line.vat_rate)
        for line in lines
    )
    change_log_record(actor=actor, instance=invoice, action=CREATE,
                      fields=["school", "number", "issued_on", "due_on", "tax_year", "lines"] + (["notes"] if notes else []))
    return invoice


def _settle_if_paid(actor: Actor, invoice: Invoice) -> None:
    if invoice_totals(invoice).balance == ZERO and invoice.status == Invoice.Status.ISSUED:
        invoice.status = Invoice.Status.PAID
        invoice.save(update_fields=["status"])
        change_log_record(actor=actor, instance=invoice, action=UPDATE, fields=["status"])


@transaction.atomic
def payment_record(*, actor: Actor, invoice: Invoice, paid_on: dt.date, amount, method: str = Payment.Method.BACS,
                   reference: str = "") -> Payment:
    """Record a payment against an invoice; more than the balance due is refused."""
    PAST.check(paid_on, field="paid_on")
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    amount = _money(amount, "amount")
    if invoice.status == Invoice.Status.VOID:
        raise ValidationError("This invoice is void.")
    balance = invoice_totals(invoice).balance
    if amount > balance:
        raise ValidationError({"amount": f"That is more than the £{balance:,.2f} still due."})
    payment = Payment.objects.create(invoice=invoice, paid_on=paid_on, amount=amount, method=method,
                                     reference=reference.strip(), tax_year=clock.uk_tax_year(paid_on))
    change_log_record(actor=actor, instance=payment, action=CREATE,
                      fields=["invoice", "paid_on", "amount", "method", "tax_year"] + (["reference"] if reference else []))
    _settle_if_paid(actor, invoice)
    return payment


@transaction.atomic
def credit_note_issue(*, actor: Actor, invoice: Invoice, issued_on: dt.date, amount, reason: str) -> CreditNote:
    """Credit part or all of an invoice's balance."""
    PAST.check(issued_on, field="issued_on")
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    amount = _money(amount, "amount")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the credit is given."})
    balance = invoice_totals(invoice).balance
    if amount > balance:
        raise ValidationError({"amount": f"That is more than the £{balance:,.2f} still due."})
    note = CreditNote.objects.create(invoice=invoice, number=_next_number("billing_credit_note_number_seq", "CN"),
                                     issued_on=issued_on, amount=amount, reason=reason.strip(),
                                     tax_year=clock.uk_tax_year(issued_on))
    change_log_record(actor=actor, instance=note, action=CREATE,
                      fields=["invoice", "number", "issued_on", "amount", "reason", "tax_year"])
    _settle_if_paid(actor, invoice)
    return note
