"""Invoices, payments and credit notes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render

from console import forms as console_forms
from console.access import console_view
from console.views import page_of, saved
from shared import clock
from shared.billing import selectors, services
from shared.billing.models import Invoice
from shared.clients.selectors import access_school
from shared.forms import service_errors_to_form


@console_view("billing")
def invoice_list(request):
    form = console_forms.InvoiceSearchForm(request.GET or None)
    queryset = selectors.invoice_list()
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            queryset = queryset.filter(Q(number__icontains=data["q"]) | Q(school__name__icontains=data["q"]))
        if data["state"] == "overdue":
            queryset = queryset.filter(pk__in=selectors.invoices_overdue().values("pk"))
        elif data["state"]:
            queryset = queryset.filter(status=data["state"])
        if data["tax_year"]:
            queryset = queryset.filter(tax_year=data["tax_year"])
    return render(request, "console/invoice_list.html", {"form": form, "page": page_of(request, queryset)})


@console_view("billing")
def invoice_new(request, school_id: int):
    school = access_school(school_id)
    form = console_forms.InvoiceForm(request.POST or None, initial={"due_on": clock.add_months(clock.today(), 1)})
    lines = console_forms.InvoiceLineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        filled = [line.cleaned_data for line in lines if line.cleaned_data and not line.cleaned_data.get("DELETE")]
        try:
            invoice = services.invoice_issue(actor=request.actor, school=school,
                                             lines=[services.LineInput(**line) for line in filled], **form.cleaned_data)
        except ValidationError as error:
            service_errors_to_form(form, error)
        else:
            messages.success(request, f"Invoice {invoice.number} issued.")
            return redirect("invoice_detail", invoice_id=invoice.pk)
    return render(request, "console/invoice_new.html", {"school": school, "form": form, "lines": lines})


def _access_invoice(invoice_id: int) -> Invoice:
    return get_object_or_404(Invoice.objects.select_related("school"), pk=invoice_id)


def _invoice_page(request, invoice: Invoice, **forms):
    """The invoice page, with fresh payment and credit-note forms unless one is being re-shown."""
    return render(request, "console/invoice_detail.html", {
        "invoice": invoice, "totals": selectors.invoice_totals(invoice), "lines": invoice.lines.all(),
        "payments": invoice.payments.all(), "credit_notes": invoice.credit_notes.all(),
        "payment_form": console_forms.PaymentForm(), "credit_form": console_forms.CreditNoteForm(), **forms,
    })


@console_view("billing")
def invoice_detail(request, invoice_id: int):
    return _invoice_page(request, _access_invoice(invoice_id))


def _invoice_action(request, invoice_id: int, form_class, service, success: str, form_name: str):
    invoice = _access_invoice(invoice_id)
    form = form_class(request.POST)
    if saved(request, form, lambda data: service(actor=request.actor, invoice=invoice, **data), success):
        return redirect("invoice_detail", invoice_id=invoice.pk)
    return _invoice_page(request, invoice, **{form_name: form})


@console_view("billing")
def payment_new(request, invoice_id: int):
    if request.method != "POST":
        return redirect("invoice_detail", invoice_id=invoice_id)
    return _invoice_action(request, invoice_id, console_forms.PaymentForm, services.payment_record, "Payment recorded.", "payment_form")


@console_view("billing")
def credit_note_new(request, invoice_id: int):
    if request.method != "POST":
        return redirect("invoice_detail", invoice_id=invoice_id)
    return _invoice_action(request, invoice_id, console_forms.CreditNoteForm, services.credit_note_issue, "Credit note issued.",
                           "credit_form")
