from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from shared import clock
from shared.schools.models import School

MONEY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")
PENNY = Decimal("0.01")


class TaxYearRecord(models.Model):
    """A record kept for tax purposes. ``tax_year`` is the UK tax year (named by its starting
    year) of the record's own date; the 8-year retention counts from that year's end."""

    tax_year = models.PositiveSmallIntegerField(editable=False, db_index=True)

    class Meta:
        abstract = True

    @property
    def tax_year_label(self) -> str:
        return clock.uk_tax_year_label(self.tax_year)


class Invoice(TaxYearRecord):
    class Status(models.TextChoices):
        ISSUED = "issued", "Issued"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=20, unique=True)
    issued_on = models.DateField()
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ISSUED)
    notes = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(due_on__gte=F("issued_on")), name="billing_invoice_due_after_issue"),
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=9, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    unit_price = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("20.00"),
                                   validators=[MinValueValidator(ZERO)], help_text="Percent")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0) & Q(unit_price__gte=0) & Q(vat_rate__gte=0),
                                   name="billing_line_not_negative"),
        ]

    # Rounded half up, per line, to the penny: the same rule PostgreSQL's round() applies in
    # billing.selectors.invoice_list, so listed and computed totals agree.
    @property
    def net(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(PENNY, ROUND_HALF_UP)

    @property
    def vat(self) -> Decimal:
        return (self.net * self.vat_rate / 100).quantize(PENNY, ROUND_HALF_UP)


class Payment(TaxYearRecord):
    class Method(models.TextChoices):
        BACS = "bacs", "Bank transfer"
        CARD = "card", "Card"
        CHEQUE = "cheque", "Cheque"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    paid_on = models.DateField()
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.BACS)
    reference = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-paid_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="billing_payment_positive")]


class CreditNote(TaxYearRecord):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(max_length=20, unique=True)
    issued_on = models.DateField()
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))], help_text="Gross, VAT included")
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="billing_credit_positive")]
