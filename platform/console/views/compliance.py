"""Compliance: the breach register with the ICO's 72-hour clock, the disclosure register, the register
of recipients (who holds whose data, to be told of corrections and erasures), the record of
processing (on screen and as CSV), and the versions of the privacy notice and of the Terms of Use."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from console.access import console_view
from console.views import page_of, saved
from orchestration import tasks
from shared import clock
from shared.compliance import breaches, disclosures, notices, processing, terms_of_use
from shared.compliance import recipients as register
from shared.compliance.models import (
    DATA_CATEGORY_CHOICES,
    Breach,
    BreachNotification,
    DataSubject,
    Disclosure,
    DisclosureGround,
    Recipient,
    RecipientHolding,
)
from shared.dates import PastDateField, PastDateTimeField, PlannedDateField
from shared.schools.models import School

# Datetime inputs take ISO times whatever the locale; the time is read as UK time.
MULTIPLE = forms.SelectMultiple(attrs={"size": 7})
SEVERAL = "Ctrl-click (Cmd-click on a Mac) to choose several."


class BreachForm(forms.Form):
    summary = forms.CharField(max_length=200, help_text="A line to find it by")
    aware_at = PastDateTimeField(initial=lambda: clock.now().replace(second=0, microsecond=0),
                                   label="We became aware at", help_text="The ICO's 72 hours run from here.")
    occurred_at = PastDateTimeField(required=False, label="It happened at", help_text="Where known")
    nature = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="What happened")
    people_categories = forms.MultipleChoiceField(choices=DataSubject.choices, widget=MULTIPLE,
                                                  label="Categories of people affected", help_text=SEVERAL)
    people_affected = forms.IntegerField(min_value=0, required=False, label="Approximate number of people")
    data_categories = forms.MultipleChoiceField(choices=DATA_CATEGORY_CHOICES, widget=MULTIPLE,
                                                label="Categories of data affected", help_text=SEVERAL)
    records_affected = forms.IntegerField(min_value=0, required=False, label="Approximate number of records")
    schools = forms.ModelMultipleChoiceField(queryset=School.objects.all(), required=False, widget=MULTIPLE,
                                             label="Affected schools", help_text=SEVERAL)
    consequences = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Likely consequences")
    measures = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Measures taken or proposed")
    risk = forms.ChoiceField(choices=Breach.Risk.choices, label="Risk to people")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("", "Choose…"), *Breach.Decision.choices])
    # Left to the service, which requires it for either answer and says why.
    reasoning = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ReportForm(forms.Form):
    reported_at = PastDateTimeField(label="Reported to the ICO at")
    reference = forms.CharField(max_length=100, required=False, label="ICO reference")
    delay_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                   label="Reasons for the delay", help_text="Required when reported after 72 hours.")


class NotificationForm(forms.Form):
    audience = forms.ChoiceField(choices=BreachNotification.Audience.choices, label="Who was told")
    school = forms.ModelChoiceField(queryset=School.objects.none(), required=False,
                                    help_text="For a school: which one")
    recipient = forms.CharField(max_length=200, help_text="e.g. the headteacher, or the parents of 12 pupils")
    method = forms.ChoiceField(choices=BreachNotification.Method.choices)
    notified_at = PastDateTimeField(label="Told at")
    content = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="What they were told")

    def __init__(self, *args, breach: Breach, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = breach.schools.all()


class PeopleEmailForm(forms.Form):
    addresses = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), label="Their email addresses",
                                help_text="One a line (or separated by commas). Each gets their own message.")
    content = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), label="The message",
                              help_text="What happened, its likely consequences, what we are doing about it, what "
                                        "they can do, and who to contact. No pupil's UPN.")


class DisclosureForm(forms.Form):
    recipient = forms.CharField(max_length=200, label="To whom", help_text="The organisation, and the person there")
    disclosed_at = PastDateTimeField(label="Disclosed at")
    ground = forms.ChoiceField(choices=DisclosureGround.choices, label="Ground (from the privacy notice)")
    data_categories = forms.MultipleChoiceField(choices=DATA_CATEGORY_CHOICES, widget=MULTIPLE,
                                                label="Categories of data", help_text=SEVERAL)
    schools = forms.ModelMultipleChoiceField(queryset=School.objects.all(), required=False, widget=MULTIPLE,
                                             label="Schools whose data it was", help_text=SEVERAL)
    people = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Whose data")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="What was disclosed")
    authorised_by = forms.CharField(max_length=200)
    references = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                 label="Reference documents",
                                 help_text="The request, order or permission, and where it is kept")
    register_as = forms.ModelChoiceField(queryset=Recipient.objects.filter(school=None), required=False,
                                         label="In the register of recipients as",
                                         help_text="So that a correction or erasure of these people tells them")
    person_keys = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                  label="Whose data, by key", help_text=f"One a line: {register.KEY_HELP}")

    def clean_person_keys(self):
        return [line.strip() for line in self.cleaned_data["person_keys"].splitlines() if line.strip()]


class RecipientForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="The organisation")
    kind = forms.ChoiceField(choices=Recipient.Kind.choices)
    contact = forms.CharField(max_length=200, required=False, help_text="The person or role there")
    how_to_reach = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="How to reach them",
                                   help_text="Email, address or telephone")


class HoldingForm(forms.Form):
    scope = forms.ChoiceField(choices=RecipientHolding.Scope.choices, label="Whose data")
    person = forms.CharField(max_length=100, required=False, label="The person, by key", help_text=register.KEY_HELP)
    school = forms.ModelChoiceField(queryset=School.objects.filter(schema_dropped_at=None).order_by("name"),
                                    required=False, help_text="For everyone in one school's data")
    what = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="What they received")
    received_on = PastDateField(required=False, label="When")
    disclosure = forms.ModelChoiceField(queryset=Disclosure.objects.all(), required=False,
                                        label="The disclosure it was", help_text="From the disclosure register")


class NoticeVersionForm(forms.Form):
    version = forms.CharField(max_length=20)
    published_on = PlannedDateField(initial=clock.today)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="What changed",
                              help_text="Shown to everyone who saw an earlier version.")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 24}), label="The notice's full text")


class TermsVersionForm(forms.Form):
    version = forms.CharField(max_length=20)
    published_on = PlannedDateField(initial=clock.today)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="What changed",
                              help_text="Shown to each school's admin, who is asked to accept the new version.")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 24}), label="The terms' full text",
                           help_text="Keep a heading line for each section UK GDPR Article 28(3) requires.")


# --- Breaches ------------------------------------------------------------------------------------


@console_view("breaches")
def breach_list(request):
    status = request.GET.get("status", "open")
    page = page_of(request, breaches.breach_list(status=status))
    now = clock.now()
    for breach in page:
        breach.clock = breaches.breach_clock(breach, as_of=now)
    return render(request, "console/breach_list.html", {
        "page": page, "status": status, "statuses": [("open", "Open"), ("closed", "Closed"), ("", "All")],
    })


@console_view("breaches")
def breach_new(request):
    form = BreachForm(request.POST or None)
    breach = saved(request, form, lambda data: breaches.breach_record(actor=request.actor, **data),
                   lambda done: f"Breach {done.reference} recorded: a report to the ICO is due by "
                                f"{timezone.localtime(breaches.breach_clock(done).deadline):%d %B %Y %H:%M}.")
    if breach:
        return redirect("breach_detail", breach_id=breach.pk)
    return render(request, "console/form_page.html", {"form": form, "title": "Record a breach",
                                                      "submit_label": "Record"})


@console_view("breaches")
def breach_edit(request, breach_id: int):
    breach = breaches.access_breach(breach_id)
    initial = {name: getattr(breach, name) for name in breaches.BREACH_ASSESSMENT_FIELDS}
    form = BreachForm(request.POST or None, initial={**initial, "schools": list(breach.schools.all())})
    if saved(request, form, lambda data: breaches.breach_update(actor=request.actor, breach=breach, **data),
             "Assessment updated."):
        return redirect("breach_detail", breach_id=breach.pk)
    return render(request, "console/form_page.html", {"form": form, "title": f"Update breach {breach.reference}"})


def _breach_page(request, breach: Breach, **forms_given):
    forms_ = {
        "decision_form": DecisionForm(initial={"decision": breach.ico_decision,
                                               "reasoning": breach.ico_decision_reasoning}),
        "report_form": ReportForm(initial={"reported_at": breach.ico_reported_at, "reference": breach.ico_reference,
                                           "delay_reason": breach.ico_delay_reason}),
        "people_form": PeopleEmailForm(),
        "notification_form": NotificationForm(breach=breach,
                                              initial={"notified_at": clock.now().replace(second=0, microsecond=0)}),
        **forms_given,
    }
    return render(request, "console/breach_detail.html", {
        "breach": breach, "clock": breaches.breach_clock(breach), "notifications": breach.notifications.all(),
        "problems": breaches.breach_close_problems(breach) if breach.closed_at is None else [], **forms_,
    })


@console_view("breaches")
def breach_detail(request, breach_id: int):
    breach = breaches.access_breach(breach_id)
    if breaches.breach_deliveries_refresh(breach):
        breach = breaches.access_breach(breach_id)
    return _breach_page(request, breach)


@console_view("breaches")
@require_POST
def breach_people_email(request, breach_id: int):
    breach = breaches.access_breach(breach_id)
    form = PeopleEmailForm(request.POST)
    if saved(request, form, lambda data: breaches.breach_people_notify(actor=request.actor, breach=breach, **data),
             lambda done: f"{len(done)} message{'s' if len(done) != 1 else ''} queued: each is marked sent as it is "
                          "delivered."):
        return redirect("breach_detail", breach_id=breach.pk)
    return _breach_page(request, breach, people_form=form)


@console_view("breaches")
@require_POST
def breach_decision(request, breach_id: int):
    breach = breaches.access_breach(breach_id)
    form = DecisionForm(request.POST)
    if saved(request, form, lambda data: breaches.breach_decide(actor=request.actor, breach=breach, **data),
             "Decision recorded."):
        return redirect("breach_detail", breach_id=breach.pk)
    return _breach_page(request, breach, decision_form=form)


@console_view("breaches")
@require_POST
def breach_report(request, breach_id: int):
    breach = breaches.access_breach(breach_id)
    form = ReportForm(request.POST)
    if saved(request, form, lambda data: breaches.breach_ico_report_record(actor=request.actor, breach=breach, **data),
             "Report to the ICO recorded."):
        return redirect("breach_detail", breach_id=breach.pk)
    return _breach_page(request, breach, report_form=form)


@console_view("breaches")
@require_POST
def breach_notification(request, breach_id: int):
    breach = breaches.access_breach(breach_id)
    form = NotificationForm(request.POST, breach=breach)
    if saved(request, form,
             lambda data: breaches.breach_notification_record(actor=request.actor, breach=breach, **data),
             "Notification recorded."):
        return redirect("breach_detail", breach_id=breach.pk)
    return _breach_page(request, breach, notification_form=form)


@console_view("breaches")
@require_POST
def breach_close(request, breach_id: int):
    breach = breaches.access_breach(breach_id)
    try:
        breaches.breach_close(actor=request.actor, breach=breach)
    except ValidationError as error:
        return _breach_page(request, breach, close_errors=error.messages)
    messages.success(request, f"Breach {breach.reference} closed.")
    return redirect("breach_detail", breach_id=breach.pk)


# --- Disclosures ---------------------------------------------------------------------------------


@console_view("disclosures")
def disclosure_list(request):
    ground = request.GET.get("ground", "")
    return render(request, "console/disclosure_list.html", {
        "page": page_of(request, disclosures.disclosure_list(ground=ground)), "ground": ground,
        "grounds": [("", "Any ground"), *DisclosureGround.choices],
    })


@console_view("disclosures")
def disclosure_new(request):
    form = DisclosureForm(request.POST or None)
    disclosure = saved(request, form, lambda data: disclosures.disclosure_record(actor=request.actor, **data),
                       "Disclosure recorded.")
    if disclosure:
        return redirect("disclosure_detail", disclosure_id=disclosure.pk)
    return render(request, "console/form_page.html", {"form": form, "title": "Record a disclosure",
                                                      "submit_label": "Record"})


@console_view("disclosures")
def disclosure_detail(request, disclosure_id: int):
    return render(request, "console/disclosure_detail.html",
                  {"disclosure": disclosures.access_disclosure(disclosure_id)})


# --- Recipients ----------------------------------------------------------------------------------


@console_view("recipients")
def recipient_list(request):
    form = RecipientForm(request.POST or None)
    recipient = saved(request, form, lambda data: register.recipient_add(actor=request.actor, **data),
                      "Recipient added: now record whose data they hold.")
    if recipient:
        return redirect("recipient_detail", recipient_id=recipient.pk)
    return render(request, "console/recipient_list.html", {
        "page": page_of(request, register.recipient_list()), "form": form})


@console_view("recipients")
def recipient_detail(request, recipient_id: int):
    recipient = register.access_recipient(recipient_id)
    form = HoldingForm(request.POST or None, initial={"disclosure": request.GET.get("disclosure") or None})
    if saved(request, form, lambda data: register.holding_add(actor=request.actor, recipient=recipient, **data),
             "Recorded: a correction or erasure of these people now opens a task to tell them."):
        return redirect("recipient_detail", recipient_id=recipient.pk)
    return render(request, "console/recipient_detail.html", {
        "recipient": recipient, "holdings": recipient.holdings.select_related("school", "disclosure"), "form": form})


# --- The record of processing --------------------------------------------------------------------


@console_view("processing_record")
def processing_record(request):
    schools = page_of(request, School.objects.filter(schema_dropped_at__isnull=True).order_by("name", "pk"))
    return render(request, "console/processing_record.html", {
        "controller": processing.CONTROLLER, "rows": processing.controller_rows(),
        "purposes": processing.PURPOSES, "measures": processing.SECURITY_MEASURES,
        "recipients": processing.RECIPIENTS, "transfers": processing.TRANSFERS,
        "sub_processors": processing.SUB_PROCESSORS, "page": schools,
        "processor_records": list(processing.processor_records(
            School.objects.filter(pk__in=[school.pk for school in schools]))),
    })


@console_view("processing_record")
def processing_record_csv(request):
    response = HttpResponse(processing.record_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="record-of-processing-{clock.today().isoformat()}.csv"'
    return response


def _published(version, job):
    """Send ``job`` (the mail telling people of the new version) once the publication commits."""
    transaction.on_commit(lambda: job.send(version.pk))
    return version


# --- The privacy notice --------------------------------------------------------------------------


@console_view("notice_versions")
def notice_versions(request):
    current = notices.notice_current()
    form = NoticeVersionForm(request.POST or None, initial={"text": current.text if current else ""})
    if saved(request, form, lambda data: _published(notices.notice_version_publish(actor=request.actor, **data),
                                                    tasks.notice_change_mail),
             lambda done: f"Version {done.version} published: every site shows it now, and every client contact "
                          "is being told by email."):
        return redirect("notice_versions")
    return render(request, "console/notice_versions.html", {
        "current": current, "versions": notices.notice_versions(), "form": form,
    })


# --- The Terms of Use ----------------------------------------------------------------------------


@console_view("terms_versions")
def terms_versions(request):
    current = terms_of_use.terms_current()
    form = TermsVersionForm(request.POST or None, initial={"text": current.text if current else ""})
    if saved(request, form, lambda data: _published(terms_of_use.terms_version_publish(actor=request.actor, **data),
                                                    tasks.terms_change_mail),
             lambda done: f"Version {done.version} published: each school's admin is asked to accept it, and told "
                          "by email."):
        return redirect("terms_versions")
    return render(request, "console/terms_versions.html", {
        "current": current, "versions": terms_of_use.terms_versions(), "form": form,
        "required": terms_of_use.REQUIRED_SECTIONS, "waiting": terms_of_use.schools_without_current_terms()[:200],
    })
