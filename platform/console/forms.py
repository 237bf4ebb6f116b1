"""Console forms: they parse and check the shape of input; the services check the rules."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from shared import clock
from shared.billing.models import Payment
from shared.clients.models import Complaint, Contact, Correspondence
from shared.dates import PastDateField, PlannedDateField
from shared.marketing.models import ProspectInteraction
from shared.schools.models import School


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class ClientSearchForm(forms.Form):
    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(attrs={"placeholder": "Name, subdomain or contact"}))
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *School.Status.choices])


class OnboardForm(forms.Form):
    name = forms.CharField(max_length=200, label="School name")
    subdomain = forms.CharField(max_length=63, help_text="Letters, digits and hyphens: the school's site will be at subdomain.our-domain.")
    admin_email = forms.EmailField(label="First school admin's email")
    contract_starts_on = PlannedDateField(initial=clock.today, label="Contract starts")
    contract_ends_on = PlannedDateField(required=False, label="Contract ends", help_text="Blank for a rolling contract.")
    contact_name = forms.CharField(max_length=200, required=False, label="Main contact's name")
    contact_role = forms.CharField(max_length=120, required=False, label="Their role")
    contact_email = forms.EmailField(required=False, label="Their email")
    contact_phone = forms.CharField(max_length=40, required=False, label="Their phone")


class CancelForm(forms.Form):
    cancelled_on = PlannedDateField(initial=clock.today, label="Cancellation date")
    reason = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["full_name", "role", "email", "phone", "address", "is_primary"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}


class ContactEndForm(forms.Form):
    ended_on = PastDateField(initial=clock.today, label="Stopped being a contact on")


class CorrespondenceForm(forms.Form):
    direction = forms.ChoiceField(choices=Correspondence.Direction.choices)
    channel = forms.ChoiceField(choices=Correspondence.Channel.choices)
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False)
    subject = forms.CharField(max_length=200)
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(required=False)

    def __init__(self, *args, school: School, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(school=school)


class ComplaintForm(forms.Form):
    kind = forms.ChoiceField(choices=Complaint.Kind.choices)
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False)
    summary = forms.CharField(max_length=200)
    details = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, school: School, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(school=school)


class ComplaintStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Complaint.Status.choices)
    resolution = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class InvoiceForm(forms.Form):
    issued_on = PastDateField(initial=clock.today, label="Issue date")
    due_on = PlannedDateField(label="Due date")
    notes = forms.CharField(max_length=500, required=False)


class InvoiceLineForm(forms.Form):
    description = forms.CharField(max_length=200)
    quantity = forms.DecimalField(max_digits=9, decimal_places=2, min_value=Decimal("0.01"), initial=Decimal("1"))
    unit_price = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), label="Unit price (£)")
    vat_rate = forms.DecimalField(max_digits=5, decimal_places=2, min_value=Decimal("0"), initial=Decimal("20"), label="VAT %")


InvoiceLineFormSet = forms.formset_factory(InvoiceLineForm, extra=3, min_num=1, validate_min=True)


class PaymentForm(forms.Form):
    paid_on = PastDateField(initial=clock.today, label="Paid on")
    amount = forms.DecimalField(max_digits=12, decimal_places=2, label="Amount (£)")
    method = forms.ChoiceField(choices=Payment.Method.choices)
    reference = forms.CharField(max_length=100, required=False)


class CreditNoteForm(forms.Form):
    issued_on = PastDateField(initial=clock.today, label="Issue date")
    amount = forms.DecimalField(max_digits=12, decimal_places=2, label="Amount (£, VAT included)")
    reason = forms.CharField(max_length=300)


class InvoiceSearchForm(forms.Form):
    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(attrs={"placeholder": "Number or school"}))
    state = forms.ChoiceField(required=False, choices=[("", "All"), ("overdue", "Overdue"), ("issued", "Unpaid"),
                                                      ("paid", "Paid"), ("void", "Void")])
    tax_year = forms.IntegerField(required=False, label="Tax year starting", min_value=2000, max_value=2100)


class ProspectForm(forms.Form):
    full_name = forms.CharField(max_length=200)
    organisation = forms.CharField(max_length=200)
    role = forms.CharField(max_length=120, required=False)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=40, required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ProspectInteractionForm(forms.Form):
    direction = forms.ChoiceField(choices=ProspectInteraction.Direction.choices)
    channel = forms.ChoiceField(choices=ProspectInteraction.Channel.choices)
    summary = forms.CharField(max_length=300)


class SearchForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
