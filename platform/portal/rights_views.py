"""The school admin's subject requests: the list with deadlines, recording a request, moving it
through its states, the tools that answer it (export, correction, erasure, restriction,
objection, consent withdrawal), the tasks of telling the recipients of a corrected or erased
person's data, and the school's own register of recipients (whom it exported or disclosed data to)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from orchestration import request_mail as tell
from portal.access import ADMIN, role_required
from portal.forms import (
    ConsentForm,
    CorrectionForm,
    ExtendForm,
    RecipientHoldingForm,
    RequestForm,
    subject_choices,
    subject_chosen,
)
from shared import clock
from shared.changes import Actor
from shared.compliance import recipients as register
from shared.forms import service_errors_to_form
from shared.privacy.requests import public, task_forms
from shared.privacy.requests import services as states
from shared.privacy.requests.recipient_tasks import recipient_tasks_of
from shared.query import id_param
from shared.schools.selectors import school_current
from tenants.pupils.models import ParentCarer, Pupil
from tenants.rights import services
from tenants.rights.models import Consent, SchoolRequest


def _actor(request) -> Actor:
    return Actor.school_user(request.user, connection.schema_name)


@role_required(ADMIN)
def request_list(request):
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                created = services.school_request_receive(
                    user=request.user, kind=data["kind"], requester_name=data["requester_name"],
                    requester_email=data["requester_email"], details=data["details"], received_on=data["received_on"],
                    subject=subject_chosen(data["subject"]))
                tell.request_acknowledged_tell(created, school=school_current())
        except ValidationError as error:
            service_errors_to_form(form, error)
        else:
            messages.success(request, f"{created} recorded.")
            return redirect("rights_request", request_id=created.pk)
    today = clock.today()
    rows = [(r, states.request_deadline(r, today=today)) for r in SchoolRequest.objects.order_by("-received_on", "-pk")[:200]]
    overdue, near = states.requests_due(requests=SchoolRequest.objects.all(), today=today)
    return render(request, "portal/rights_list.html", {"rows": rows, "form": form, "today": today,
                                                       "overdue": overdue, "near": near})


@role_required(ADMIN)
def request_detail(request, request_id: int):
    subject_request = get_object_or_404(SchoolRequest, pk=request_id)
    subject = subject_request.subject()
    action = request.POST.get("action") if request.method == "POST" else None
    extend_form = ExtendForm(request.POST if action == "extend" else None)
    correction_form = CorrectionForm(subject, request.POST if action == "correct" else None) \
        if subject is not None and subject_request.kind == SchoolRequest.Kind.CORRECTION else None
    token = None
    if action:
        try:
            with transaction.atomic():
                token = _act(request, subject_request, action, extend_form, correction_form)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))  # nothing was changed
            return redirect("rights_request", request_id=subject_request.pk)
        except _FormInvalid:
            pass  # shown again, with its errors
        else:
            if token is None:
                return redirect("rights_request", request_id=subject_request.pk)
            subject_request.refresh_from_db()
    if isinstance(subject, Pupil):
        consents = Consent.objects.filter(pupil=subject)
    elif isinstance(subject, ParentCarer):
        consents = Consent.objects.filter(parent=subject)
    else:
        consents = Consent.objects.none()
    return render(request, "portal/rights_detail.html", {
        "r": subject_request, "subject": subject, "is_open": subject_request.state in SchoolRequest.OPEN_STATES, "deadline": states.request_deadline(subject_request),
        "extend_form": extend_form, "correction_form": correction_form, "consents": consents,
        "subject_choices": subject_choices() if subject is None and subject_request.state in SchoolRequest.OPEN_STATES else None,
        "download_url": request.build_absolute_uri(reverse("rights_export", kwargs={"token": token})) if token else None,
        "exports": subject_request.exports.order_by("-created_at"), "fee_reasons": SchoolRequest.FeeReason.choices,
        "tasks": recipient_tasks_of(subject_request), "task_done_form": task_forms.TaskDoneForm(),
        "task_close_form": task_forms.TaskCloseForm(),
    })


class _FormInvalid(Exception):
    pass


def _act(request, subject_request: SchoolRequest, action: str, extend_form, correction_form) -> str | None:
    """Apply one action; returns an export's token when one was built (shown once). The requester is
    told by mail of what concerns them (``orchestration.request_mail``), in the same transaction."""
    actor, user, post = _actor(request), request.user, request.POST
    school = school_current()
    if action == "start":
        states.request_start(actor=actor, request=subject_request)
    elif action == "await_identity":
        states.request_await_identity(actor=actor, request=subject_request)
        tell.request_identity_tell(subject_request, school=school)
    elif action == "await_clarification":
        states.request_await(actor=actor, request=subject_request, reason=SchoolRequest.PauseReason.CLARIFICATION)
    elif action == "ask_fee":
        states.request_await(actor=actor, request=subject_request, reason=SchoolRequest.PauseReason.FEE,
                             fee_reason=post.get("fee_reason", ""), fee_amount=post.get("fee_amount", ""))
    elif action == "extend":
        if not extend_form.is_valid():
            raise _FormInvalid
        data = extend_form.cleaned_data
        states.request_extend(actor=actor, request=subject_request, months=data["months"], reason=data["reason"],
                              told_on=data["told_on"])
        tell.request_extended_tell(subject_request, school=school)
    elif action == "refuse":
        states.request_refuse(actor=actor, request=subject_request, reason=post.get("reason", ""))
        tell.request_refused_tell(subject_request, school=school)
    elif action == "complete":
        states.request_complete(actor=actor, request=subject_request)
        tell.request_completed_tell(subject_request, school=school)
    elif action == "export_send":
        if subject_request.email_verified_on is None or not subject_request.requester_email:
            raise ValidationError(tell.NOT_VERIFIED)
        link, token = services.export_build(user=user, request=subject_request)
        states.request_complete(actor=actor, request=subject_request)
        tell.request_completed_tell(subject_request, school=school, export_token=token, expires_at=link.expires_at)
        messages.success(request, f"Export built and its one-time link mailed to {subject_request.requester_email} "
                                  "(verified); the request is answered.")
    elif action == "identify":
        services.subject_identify(user=user, request=subject_request, subject=subject_chosen(post.get("subject", "")))
    elif action == "export":
        _, token = services.export_build(user=user, request=subject_request)
        messages.success(request, "Export built. Copy the link below now: it is shown once, works once, "
                                  f"and expires in {settings.EXPORT_LINK_DAYS} days.")
        return token
    elif action == "correct":
        if correction_form is None:
            raise ValidationError("This request is not about correcting a record.")
        if not correction_form.is_valid():
            raise _FormInvalid
        changed = services.subject_correct(user=user, request=subject_request, changes=correction_form.cleaned_data)
        messages.success(request, f"Corrected: {', '.join(changed) or 'nothing changed'}.")
    elif action == "erase":
        if post.get("confirm") != subject_request.subject_label:
            raise ValidationError("Type the person's name exactly as shown to confirm the erasure.")
        counts = services.subject_erase(user=user, request=subject_request)
        subject_request.refresh_from_db()
        done = ("The request is completed." if subject_request.state == SchoolRequest.State.COMPLETED else
                "Tell each recipient below, then mark the request answered.")
        messages.success(request, f"Erased: {sum(counts.values())} records deleted or anonymised. {done}")
    elif action in task_forms.ACTIONS:
        messages.success(request, task_forms.recipient_task_post(actor=actor, request=subject_request, data=post))
    elif action in ("flag", "unflag"):
        services.subject_flag(user=user, request=subject_request, on=action == "flag")
        messages.success(request, "Saved: automated processing (imports, analysis) now "
                                  f"{'leaves this record alone' if action == 'flag' else 'includes this record again'}.")
    elif action == "withdraw":
        consent = get_object_or_404(Consent, pk=post.get("consent", "0") or 0)
        services.consent_withdraw(user=user, consent=consent)
        messages.success(request, f"Consent to “{consent.purpose}” withdrawn.")
    else:
        raise ValidationError("Unknown action.")
    return None


@require_safe
def export_download(request, token: str):
    """For the person the export is about, so no sign-in: the link's 256-bit token is the key, and
    it opens once, on this school's site only, until it expires. Only the GET that delivers the
    file uses it: mail scanners and link previews send HEAD first, which is answered without
    looking the link up."""
    if request.method == "HEAD":
        response = HttpResponse(content_type="text/html; charset=utf-8")
        response["Cache-Control"] = "no-store"
        response["X-Robots-Tag"] = "noindex"
        return response
    try:
        link, content = services.export_download(token=token)
    except services.ExportUnavailable as error:
        return render(request, "portal/rights_export_gone.html", {"reason": str(error)}, status=410)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="access-export-{link.request_id}-{clock.today():%Y%m%d}.zip"'
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def identity_confirm(request, token: str):
    """The identity link mailed to the requester while their request waits for proof of identity: no
    sign-in (the signed link is the key, and it names this school's schema and the day the wait
    began, so it works once and here only). GET shows a button (a mail scanner confirms nothing)."""
    try:
        schema, request_id, since = public.identity_token_read(token)
    except ValidationError as error:
        return render(request, "portal/rights_export_gone.html", {"reason": " ".join(error.messages)}, status=410)
    subject_request = SchoolRequest.objects.filter(pk=request_id).first() if schema == connection.schema_name else None
    if subject_request is None:
        raise Http404
    if not (subject_request.state == SchoolRequest.State.AWAITING_IDENTITY and subject_request.paused_since == since
            and subject_request.pause_reason == SchoolRequest.PauseReason.IDENTITY):
        return render(request, "portal/rights_export_gone.html", {
            "reason": "This link has been used already, or the request no longer waits for it."}, status=410)
    if request.method == "POST":
        states.request_identity_confirm(actor=Actor.system(), request=subject_request)
        return render(request, "portal/rights_identity.html", {
            "r": subject_request, "done": True, "deadline": states.request_deadline(subject_request)})
    return render(request, "portal/rights_identity.html", {"r": subject_request})


@role_required(ADMIN)
def consents(request):
    """What pupils and parents have consented to, and when they withdrew it."""
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "withdraw":
        consent = get_object_or_404(Consent, pk=id_param(request.POST, "consent", default=0))
        try:
            services.consent_withdraw(user=request.user, consent=consent)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Consent to “{consent.purpose}” withdrawn.")
        return redirect("consents")
    if request.method == "POST" and form.is_valid():
        subject = subject_chosen(form.cleaned_data["subject"])
        try:
            services.consent_record(user=request.user, purpose=form.cleaned_data["purpose"],
                                    given_on=form.cleaned_data["given_on"],
                                    pupil=subject if isinstance(subject, Pupil) else None,
                                    parent=subject if isinstance(subject, ParentCarer) else None)
        except ValidationError as error:
            service_errors_to_form(form, error)
        else:
            messages.success(request, "Consent recorded.")
            return redirect("consents")
    return render(request, "portal/consents.html", {
        "form": form, "consents": Consent.objects.select_related("pupil", "parent")[:500]})


@role_required(ADMIN)
def recipients(request):
    """The school's own register of recipients: to whom it exported or disclosed a pupil's, parent's
    or user's data, so that a correction or erasure of that person opens a task to tell them."""
    school = school_current()
    own = list(register.recipient_list(school=school))
    form = RecipientHoldingForm(request.POST or None, recipients=own)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.recipient_holding_add(
                user=request.user, subject=subject_chosen(data["subject"]), recipient_name=data["name"],
                contact=data["contact"], how_to_reach=data["how_to_reach"], what=data["what"],
                received_on=data["received_on"], recipient_id=int(data["recipient"]) if data["recipient"] else None)
        except ValidationError as error:
            service_errors_to_form(form, error)
        else:
            messages.success(request, "Recorded: a correction or erasure of that person now opens a task to tell them.")
            return redirect("rights_recipients")
    labels = {f"{value.split(':')[0]}:{school.pk}:{value.split(':')[1]}": label
              for value, label in subject_choices() if value}
    rows = [(recipient, [(holding, labels.get(holding.person, "erased or no longer held")) for holding in
                         recipient.holdings.all()]) for recipient in own]
    return render(request, "portal/rights_recipients.html", {"rows": rows, "form": form})
