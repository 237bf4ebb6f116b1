"""Data subjects' requests that reach the vendor: the list with ICO deadlines, recording one,
moving it through its states (waiting for identity, clarification or a fee), answering those about
the vendor's own records (an export of what the vendor holds by email address; naming the person,
then correcting, restricting or erasing their records: ``shared.privacy.requests.vendor_tools``),
telling the recipients of a corrected or erased person's data (the request's recipient tasks), and
handing those about pupil data over to the school."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from console.access import console_view
from console.templatetags.console import records_label
from console.views import page_of, saved
from orchestration import request_mail as tell
from orchestration import requests as handover
from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action
from shared.compliance import vendor_answers
from shared.dates import PastDateField
from shared.operators.models import Operator
from shared.privacy.exports import links as export_links
from shared.privacy.exports.vendor import vendor_subject_export, vendor_subject_records
from shared.privacy.models import SubjectRequest
from shared.privacy.requests import services as states
from shared.privacy.requests import task_forms
from shared.privacy.requests import vendor_tools as tools
from shared.privacy.requests.deadlines import MAX_EXTENSION_MONTHS
from shared.privacy.requests.recipient_tasks import recipient_tasks_of
from shared.schools.models import School


class RequestForm(forms.Form):
    kind = forms.ChoiceField(choices=SubjectRequest.Kind.choices, label="Right")
    requester_name = forms.CharField(max_length=200, label="Asked by")
    requester_email = forms.EmailField(required=False, label="Their email")
    received_on = PastDateField(initial=clock.today)
    details = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ExtendForm(forms.Form):
    months = forms.IntegerField(min_value=1, max_value=MAX_EXTENSION_MONTHS)
    reason = forms.CharField(max_length=300)
    told_on = PastDateField(label="Person told on")


class RefuseForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Shown to the person")


class FeeForm(forms.Form):
    fee_reason = forms.ChoiceField(choices=[("", "Choose the ground")] + SubjectRequest.FeeReason.choices, required=False,
                                   label="Why a fee", help_text="Access is free: a fee only on these grounds")
    fee_amount = forms.DecimalField(min_value=0, max_digits=8, decimal_places=2, label="Amount (£)")


class IdentifyForm(forms.Form):
    reference = forms.CharField(max_length=40, required=False, label="The person's record",
                                help_text="One found by their email above, or another by its kind and number, as its page shows them (for example Contact 12 or Prospect 7)")


def correction_form(subject, data=None) -> forms.Form | None:
    """The person's own correctable fields, filled with what is held now."""
    if subject is None:
        return None
    record = subject.user if isinstance(subject, Operator) else subject
    fields = {name: forms.CharField(required=False, max_length=record._meta.get_field(name).max_length,
                                    label=record._meta.get_field(name).verbose_name.capitalize(),
                                    initial=getattr(record, name),
                                    widget=forms.Textarea(attrs={"rows": 2}) if name == "address" else None)
              for name in tools.CORRECTABLE[type(subject)]}
    return type("CorrectionForm", (forms.Form,), fields)(data)


class ForwardForm(forms.Form):
    school = forms.ModelChoiceField(queryset=School.objects.filter(schema_dropped_at=None).order_by("name"))


@transaction.atomic
def _receive_and_tell(actor, data) -> SubjectRequest:
    received = states.request_receive(actor=actor, **data)
    tell.request_acknowledged_tell(received)
    return received


@console_view("subject_requests")
def request_list(request):
    form = RequestForm(request.POST or None)
    if saved(request, form, lambda data: _receive_and_tell(request.actor, data), "Request recorded."):
        return redirect("subject_requests")
    today = clock.today()
    overdue, near = states.requests_due(today=today)
    page = page_of(request, SubjectRequest.objects.select_related("school").order_by("-received_on", "-pk"), per_page=50)
    return render(request, "console/subject_requests.html", {
        "page": page, "rows": [(r, states.request_deadline(r, today=today)) for r in page],
        "overdue": overdue, "near": near, "form": form, "today": today})


@console_view("subject_requests")
def request_detail(request, request_id: int):
    subject_request = get_object_or_404(SubjectRequest.objects.select_related("school"), pk=request_id)
    action = request.POST.get("action") if request.method == "POST" else None
    post = request.POST if request.method == "POST" else None
    forms_ = {"extend": ExtendForm(post if action == "extend" else None),
              "refuse": RefuseForm(post if action == "refuse" else None),
              "forward": ForwardForm(post if action == "forward" else None),
              "ask_fee": FeeForm(post if action == "ask_fee" else None),
              "identify": IdentifyForm(post if action == "identify" else None),
              "correct": correction_form(subject_request.subject(), post if action == "correct" else None)}
    actor = request.actor
    simple = {"start": states.request_start, "await_identity": states.request_await_identity,
              "complete": states.request_complete}
    try:
        with transaction.atomic():
            if action == "await_clarification":
                states.request_await(actor=actor, request=subject_request, reason=SubjectRequest.PauseReason.CLARIFICATION)
                return redirect("subject_request", request_id=subject_request.pk)
            if action in ("restrict", "unrestrict"):
                changed = tools.vendor_subject_restrict(actor=actor, request=subject_request, on=action == "restrict")
                messages.success(request, ("Processing restricted: the record stays, and nothing automated uses it."
                                           if action == "restrict" else "Restriction lifted.") if changed else "Nothing to change.")
                return redirect("subject_request", request_id=subject_request.pk)
            if action == "erase":
                if request.POST.get("confirm", "").strip() != subject_request.subject_label:
                    raise ValidationError("Type the person's record exactly as shown to confirm the erasure.")
                counts = vendor_answers.vendor_erase_and_tell(actor=actor, request=subject_request)
                detail = ", ".join(f"{records_label(label)}: {n}" for label, n in sorted(counts.items()))
                messages.success(request, f"Erased ({detail}), and written in the erasure ledger. Mark the request answered "
                                          "once the person is told.")
                return redirect("subject_request", request_id=subject_request.pk)
            if action == "object_marketing":
                objected = marketing_objection_record(actor=actor, request=subject_request)
                messages.success(request, f"Objection to direct marketing recorded on {objected} prospect record(s); "
                                          "no marketing can be sent to them again.")
                return redirect("subject_request", request_id=subject_request.pk)
            if action in task_forms.ACTIONS:
                messages.success(request, task_forms.recipient_task_post(actor=actor, request=subject_request,
                                                                         data=request.POST))
                return redirect("subject_request", request_id=subject_request.pk)
            if action == "export_send":
                if subject_request.email_verified_on is None or not subject_request.requester_email:
                    raise ValidationError(tell.NOT_VERIFIED)
                link, token = export_links.vendor_export_link_build(actor=actor, request=subject_request)
                states.request_complete(actor=actor, request=subject_request)
                tell.request_completed_tell(subject_request, export_token=token, expires_at=link.expires_at)
                messages.success(request, f"Export built and its one-time link mailed to {subject_request.requester_email} "
                                          "(verified); the request is answered.")
                return redirect("subject_request", request_id=subject_request.pk)
            if action in simple:
                simple[action](actor=actor, request=subject_request)
                if action == "await_identity":
                    tell.request_identity_tell(subject_request)
                elif action == "complete":
                    tell.request_completed_tell(subject_request)
                return redirect("subject_request", request_id=subject_request.pk)
            if action in forms_ and forms_[action].is_valid():
                data = forms_[action].cleaned_data
                if action == "extend":
                    states.request_extend(actor=actor, request=subject_request, **data)
                    tell.request_extended_tell(subject_request)
                elif action == "ask_fee":
                    states.request_await(actor=actor, request=subject_request, reason=SubjectRequest.PauseReason.FEE,
                                         fee_reason=data["fee_reason"], fee_amount=data["fee_amount"])
                elif action == "identify":
                    reference = data["reference"] or request.POST.get("subject", "")
                    tools.vendor_subject_identify(actor=actor, request=subject_request,
                                                  subject=tools.subject_from_reference(reference))
                elif action == "correct":
                    changed = vendor_answers.vendor_correct_and_tell(actor=actor, request=subject_request, changes=data)
                    messages.success(request, f"Corrected: {', '.join(changed)}." if changed else "Nothing differed: nothing changed.")
                elif action == "refuse":
                    states.request_refuse(actor=actor, request=subject_request, reason=data["reason"])
                    tell.request_refused_tell(subject_request)
                else:
                    handover.request_forward_to_school(actor=actor, request=subject_request, school=data["school"])
                    tell.request_acknowledged_tell(subject_request, forwarded_to=data["school"].name)
                    messages.success(request, f"Handed over to {data['school'].name}: it appears in their list of requests.")
                return redirect("subject_request", request_id=subject_request.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("subject_request", request_id=subject_request.pk)
    email = subject_request.requester_email
    found = vendor_subject_records(email) if email else {}
    is_open = subject_request.state in SubjectRequest.OPEN_STATES
    subject = subject_request.subject()
    return render(request, "console/subject_request.html", {
        "r": subject_request, "deadline": states.request_deadline(subject_request), "forms": forms_,
        "is_open": is_open, "found": {label: len(rows) for label, rows in found.items() if rows},
        "tasks": recipient_tasks_of(subject_request), "task_done_form": task_forms.TaskDoneForm(),
        "task_close_form": task_forms.TaskCloseForm(),
        "subject": subject, "subject_ref": tools.subject_reference(subject) if subject else "",
        "answering": subject_request.state in (SubjectRequest.State.IN_PROGRESS, SubjectRequest.State.EXTENDED),
        "restrictable": isinstance(subject, tools.RESTRICTABLE),
        "candidates": [(tools.subject_reference(c), tools.subject_label(c)) for c in tools.vendor_candidates(email)]
                      if is_open and subject_request.school_id is None else []})


def marketing_objection_record(*, actor, request: SubjectRequest) -> int:
    """An objection (or consent withdrawal) about marketing: every prospect record under the
    requester's email objects, permanently."""
    from shared.marketing.models import Prospect
    from shared.marketing.services import prospect_object

    if request.kind not in (SubjectRequest.Kind.OBJECTION, SubjectRequest.Kind.CONSENT_WITHDRAWAL):
        raise ValidationError("Only an objection or a withdrawal of consent stops marketing.")
    if request.state not in (SubjectRequest.State.IN_PROGRESS, SubjectRequest.State.EXTENDED):
        raise ValidationError("Confirm the person's identity and start the request first.")
    prospects = list(Prospect.objects.filter(email__iexact=request.requester_email.strip())) if request.requester_email else []
    if not prospects:
        raise ValidationError("No marketing record holds the requester's email address.")
    for prospect in prospects:
        prospect_object(actor=actor, prospect=prospect)
    return len(prospects)


@console_view("subject_requests")
def request_export(request, request_id: int):
    """What the vendor holds as controller about the requester's email address, as a zip."""
    subject_request = get_object_or_404(SubjectRequest, pk=request_id, requester_email__gt="")
    if subject_request.state not in (SubjectRequest.State.IN_PROGRESS, SubjectRequest.State.EXTENDED):
        messages.error(request, "Confirm the person's identity and start the request before exporting their data.")
        return redirect("subject_request", request_id=subject_request.pk)
    content = vendor_subject_export(subject_request.requester_email)
    change_log_record(actor=request.actor, instance=subject_request, action=Action.EXPORT)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="request-{subject_request.pk}-export.zip"'
    response["Cache-Control"] = "no-store"
    return response
