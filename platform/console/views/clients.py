"""The console's landing, dashboard, and client screens: list, onboarding, a client's page,
contract cancellation, contacts and their consents to optional communications, correspondence and
complaints."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from console import forms as console_forms
from console.access import can, console_view
from console.views import page_of, saved
from console.views.support import support_panel
from orchestration import provisioning
from shared.billing.selectors import invoice_list
from shared.clients import selectors, services
from shared.clients.models import Complaint, OptionalMail
from shared.compliance.terms_of_use import terms_status
from shared.schools.selectors import schools_migration_failed


def landing(request):
    return render(request, "console/landing.html")


@console_view("dashboard")
def dashboard(request):
    from shared.audit.selectors import dead_letters_summary
    from shared.billing.selectors import invoices_overdue
    from shared.compliance.breaches import breaches_due
    from shared.privacy.requests.services import requests_due

    requests_overdue, requests_near = requests_due()
    return render(request, "console/dashboard.html", {
        "counts": selectors.dashboard_counts(),
        "overdue": invoices_overdue()[:10],
        "complaints": selectors.complaint_list(status="open")[:10],
        "breaches_due": breaches_due(),
        "requests_due": [(r, d, True) for r, d in requests_overdue] + [(r, d, False) for r, d in requests_near],
        "migration_failed": schools_migration_failed()[:50],
        "dead_letters": dead_letters_summary() if can(request.operator, "technical") else None,
    })


@console_view("clients")
def client_list(request):
    form = console_forms.ClientSearchForm(request.GET or None)
    search = status = ""
    if form.is_valid():
        search, status = form.cleaned_data["q"], form.cleaned_data["status"]
    return render(request, "console/client_list.html", {
        "form": form, "page": page_of(request, selectors.client_list(search=search, status=status)),
    })


def _first_admin_invited(done) -> str:
    """Mail the new school's first admin their invitation (from the school's host, with its name):
    the set-password link is never shown on screen."""
    provisioning.first_admin_invite(done)
    return f"{done.school.name} is set up. Invitation sent to {done.admin_email}."


def _onboard(request, data):
    """A fault of the system in sign-up (not of the operator's input) is shown on the form as what
    it is, with nothing created, rather than as an error page."""
    try:
        return provisioning.client_onboard(actor=request.actor, **data)
    except provisioning.ProvisioningFailed as failure:
        raise ValidationError(f"The school was not set up: {failure}. This is a fault in the system, not in what "
                              "you entered; it is logged for the engineers (school.provision_failed).") from failure


@console_view("client_onboard")
def client_onboard(request):
    form = console_forms.OnboardForm(request.POST or None)
    provisioned = saved(request, form, lambda data: _onboard(request, data), _first_admin_invited)
    if provisioned:
        return redirect("client_detail", school_id=provisioned.school.pk)
    return render(request, "console/form_page.html", {"form": form, "title": "Onboard a school", "submit_label": "Onboard"})


@console_view("clients")
def client_detail(request, school_id: int):
    school = selectors.access_school(school_id)
    contract = selectors.current_contract(school)
    return render(request, "console/client_detail.html", {
        "school": school,
        "contract": contract,
        "undoable": contract is not None and services.contract_cancellation_undoable(contract),
        "contacts": _with_consents(school),
        "contact_end_form": console_forms.ContactEndForm(),
        "accounts": school.client_accounts.all(),
        "invoices": invoice_list(school_id=school.pk)[:20],
        "correspondence": school.correspondence.select_related("contact").prefetch_related("attachments")[:20],
        "complaints": school.complaints.select_related("contact")[:20],
        "cancel_form": console_forms.CancelForm(),
        "terms": terms_status(school_id=school.pk),
        **support_panel(request, school),
    })


def _with_consents(school):
    """The school's contacts, each with ``consent_rows``: per optional communication, the consent
    in force (or None) and its history."""
    consents = selectors.contact_consents(school=school)
    contacts = list(school.contacts.all())
    for contact in contacts:
        mine = consents.get(contact.pk, [])
        contact.consent_rows = [
            (purpose, label, next((c for c in mine if c.purpose == purpose and c.withdrawn_at is None), None),
             [c for c in mine if c.purpose == purpose])
            for purpose, label in OptionalMail.choices]
    return contacts


@console_view("contacts")
@require_POST
def contact_consent(request, school_id: int, contact_id: int):
    """Record a contact's consent to an optional communication, or its withdrawal, from now."""
    school = selectors.access_school(school_id)
    contact = selectors.access_contact(school=school, contact_id=contact_id)
    purpose, how = request.POST.get("purpose", ""), request.POST.get("how", "")
    try:
        if request.POST.get("action") == "give":
            consent = services.contact_consent_give(actor=request.actor, contact=contact, purpose=purpose, how=how)
            messages.success(request, f"{contact.full_name}'s consent to {consent.get_purpose_display().lower()} "
                                      "recorded.")
        elif request.POST.get("action") == "withdraw":
            consent = services.contact_consent_withdraw(actor=request.actor, contact=contact, purpose=purpose, how=how)
            messages.success(request, f"{contact.full_name}'s consent to {consent.get_purpose_display().lower()} "
                                      "withdrawn: they are off that list from now.")
        else:
            raise ValidationError("Choose to record or to withdraw a consent.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages) + " Nothing was changed.")
    return redirect("client_detail", school_id=school.pk)


@console_view("contract_cancel")
@require_POST
def contract_cancel(request, school_id: int):
    school = selectors.access_school(school_id)
    contract = selectors.current_contract(school)
    form = console_forms.CancelForm(request.POST)
    if contract is None:
        messages.error(request, "This school has no contract to cancel.")
        return redirect("client_detail", school_id=school.pk)
    if saved(request, form, lambda data: services.contract_cancel(actor=request.actor, contract=contract, **data),
             lambda done: f"Cancellation recorded. Nothing is deleted now: configuration files are due to go on "
                          f"{done.config_files_delete_on:%d %B %Y} and the school's data on {done.schema_drop_on:%d %B %Y}."):
        return redirect("client_detail", school_id=school.pk)
    return render(request, "console/form_page.html", {
        "school": school, "form": form, "title": f"Cancel {school.name}'s contract", "submit_label": "Record cancellation",
    })


@console_view("contract_cancel")
@require_POST
def contract_cancellation_undo(request, school_id: int):
    school = selectors.access_school(school_id)
    contract = selectors.current_contract(school)
    try:
        if contract is None:
            raise ValidationError("This school has no contract.")
        services.contract_cancellation_undo(actor=request.actor, contract=contract)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Cancellation undone: the contract is active again.")
    return redirect("client_detail", school_id=school.pk)


@console_view("contacts")
def contact_edit(request, school_id: int, contact_id: int | None = None):
    school = selectors.access_school(school_id)
    contact = selectors.access_contact(school=school, contact_id=contact_id) if contact_id else None
    form = console_forms.ContactForm(request.POST or None, instance=contact)

    def save(data):
        if contact is None:
            return services.contact_create(actor=request.actor, school=school, **data)
        return services.contact_update(actor=request.actor, contact=contact, **data)

    if saved(request, form, save, "Contact saved."):
        return redirect("client_detail", school_id=school.pk)
    return render(request, "console/form_page.html", {
        "school": school, "form": form, "title": f"Edit {contact.full_name}" if contact else f"Add a contact at {school.name}",
    })


@console_view("contacts")
@require_POST
def contact_end(request, school_id: int, contact_id: int):
    """Record that a contact stopped being the school's contact (the school replaced them): their
    own 7-year retention clock starts."""
    school = selectors.access_school(school_id)
    contact = selectors.access_contact(school=school, contact_id=contact_id)
    form = console_forms.ContactEndForm(request.POST)
    if saved(request, form, lambda data: services.contact_end(actor=request.actor, contact=contact, **data),
             lambda done: f"{done.full_name} is recorded as no longer a contact from {done.ended_on:%d %B %Y}. "
                          "Their details and correspondence are kept 7 years from then, then deleted."):
        return redirect("client_detail", school_id=school.pk)
    return render(request, "console/form_page.html", {
        "school": school, "form": form, "title": f"{contact.full_name} stops being a contact",
        "submit_label": "Record the end",
    })


@console_view("correspondence")
def correspondence_new(request, school_id: int):
    school = selectors.access_school(school_id)
    form = console_forms.CorrespondenceForm(request.POST or None, request.FILES or None, school=school)
    if saved(request, form, lambda data: services.correspondence_record(actor=request.actor, school=school, **data),
             "Correspondence recorded."):
        return redirect("client_detail", school_id=school.pk)
    return render(request, "console/form_page.html", {
        "school": school, "form": form, "title": f"Record correspondence with {school.name}", "multipart": True,
    })


@console_view("complaints")
def complaint_new(request, school_id: int):
    school = selectors.access_school(school_id)
    form = console_forms.ComplaintForm(request.POST or None, school=school)
    if saved(request, form, lambda data: services.complaint_record(actor=request.actor, school=school, **data),
             "Complaint logged."):
        return redirect("client_detail", school_id=school.pk)
    return render(request, "console/form_page.html", {
        "school": school, "form": form, "title": f"Log a complaint or problem from {school.name}",
    })


@console_view("complaints")
def complaint_list(request):
    status = request.GET.get("status", "open")
    search = request.GET.get("q", "")
    return render(request, "console/complaint_list.html", {
        "page": page_of(request, selectors.complaint_list(status=status, search=search)),
        "status": status, "q": search, "statuses": [("open", "Open or investigating"), *Complaint.Status.choices, ("", "All")],
    })


@console_view("complaints")
def complaint_detail(request, complaint_id: int):
    complaint = selectors.access_complaint(complaint_id)
    form = console_forms.ComplaintStatusForm(request.POST or None, initial={"status": complaint.status})
    if saved(request, form, lambda data: services.complaint_status_set(actor=request.actor, complaint=complaint, **data),
             "Complaint updated."):
        return redirect("complaint_detail", complaint_id=complaint.pk)
    return render(request, "console/complaint_detail.html", {"complaint": complaint, "form": form})



@console_view("correspondence")
def correspondence_attachment(request, school_id: int, attachment_id: int):
    """A correspondence attachment, as a download (never shown inline), to operators whose role may
    open the client's correspondence. Not cached (the NoStoreMiddleware)."""
    attachment = selectors.access_attachment(school=selectors.access_school(school_id), attachment_id=attachment_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("That file is no longer kept.") from None
    return FileResponse(handle, as_attachment=True, filename=attachment.name,
                        content_type=attachment.content_type or "application/octet-stream")
