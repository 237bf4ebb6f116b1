"""The public request page on the vendor's host ("All SARs and other requests or notifications in
respect of your above rights may be sent to us via our contact page"): anyone makes a request under
any of the seven rights, a complaint or a question, about the vendor's records or a named school's.
Nothing is stored until the person confirms their email address by the link mailed to it
(``shared.privacy.requests.public``); then it lands in the console's Requests, or is handed over to
the school at once (``orchestration.public_requests``).

Against abuse, without JavaScript or anyone else's CAPTCHA: a honeypot field (hidden from people by
the stylesheet; a filled one gets the same answer and nothing is kept or sent), and a limit per
client address and per email address (django-ratelimit's counters in the cache, as sign-in's).
The identity links mailed while a request waits for proof of identity open here too."""

from __future__ import annotations

import math

import structlog
from django import forms
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe
from django_ratelimit.core import get_usage

from orchestration import request_mail as tell
from orchestration.public_requests import public_request_land
from shared import clock
from shared.changes import Actor
from shared.client_address import client_ip
from shared.privacy.exports import links as export_links
from shared.privacy.models import SubjectRequest
from shared.privacy.requests import public
from shared.privacy.requests import services as states
from shared.schools.selectors import open_schools

log = structlog.get_logger(__name__)

# Per client address (a school's whole network may share one) and per email address, per hour.
ADDRESS_LIMIT, EMAIL_LIMIT = 10, 3
HONEYPOT = "website"
SENT_TO = "contact_sent_to"


def _about_choices() -> list[tuple[str, str]]:
    return [(public.VENDOR, "Pupil Tracking Ltd's own records (accounts, contracts, marketing, support)")] + [
        (str(school.pk), f"{school.name} (a school's pupils, parents and staff)") for school in open_schools()]


class PublicRequestForm(forms.Form):
    kind = forms.ChoiceField(label="What would you like?", choices=[
        ("", "Choose one")] + [(value, label) for value, label in SubjectRequest.Kind.choices])
    about = forms.ChoiceField(label="Whose records is it about?", choices=())
    name = forms.CharField(label="Your name", max_length=200)
    email = forms.EmailField(label="Your email address", max_length=254,
                             help_text="We mail a link to it: the request is sent once you follow the link.")
    details = forms.CharField(label="Your request", max_length=public.DETAILS_MAX,
                              widget=forms.Textarea(attrs={"rows": 6}),
                              help_text="Who it is about (for a pupil: their name and school year), and what you ask.")
    # the honeypot: hidden from people and screen readers, and out of the keyboard's way
    website = forms.CharField(required=False, label="Leave this empty", max_length=200,
                              widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["about"].choices = [("", "Choose one")] + _about_choices()


def _limited(request, email: str) -> int | None:
    """Minutes until this address or email may send again, or None; counts this attempt."""
    wait = None
    for group, value, limit in (("contact-address", client_ip(request) or "", ADDRESS_LIMIT),
                                ("contact-email", email.strip().casefold(), EMAIL_LIMIT)):
        if not value:
            continue
        usage = get_usage(request, group=group, key=lambda _g, _r, value=value: value, rate=f"{limit}/h",
                          method="POST", increment=True)
        if usage is not None and usage["count"] > limit:
            wait = max(wait or 0, max(1, math.ceil(usage["time_left"] / 60)))
    return wait


def contact(request):
    """The request form; a valid one mails its confirmation link and says so."""
    form = PublicRequestForm(request.POST or None)
    if request.method == "POST":
        wait = _limited(request, request.POST.get("email", "")[:254])
        if wait is not None:
            log.warning("contact.throttled")
            form.add_error(None, f"Too many requests have been sent from here or for this email address. Please try "
                                 f"again in {wait} minutes.")
            return render(request, "console/contact.html", {"form": form}, status=429)
        if request.POST.get(HONEYPOT):
            log.info("contact.honeypot")  # a bot: the same answer, nothing kept or sent
            return _sent(request, request.POST.get("email", "")[:254])
        if form.is_valid():
            data = form.cleaned_data
            token = public.submission_token(
                kind=data["kind"], school_id=None if data["about"] == public.VENDOR else int(data["about"]),
                name=data["name"].strip(), email=data["email"].strip(), details=data["details"].strip(),
                submitted_on=clock.today())
            tell.submission_confirm_tell(email=data["email"].strip(), name=data["name"].strip(),
                                         kind=data["kind"], token=token)
            return _sent(request, data["email"])
    return render(request, "console/contact.html", {"form": form}, status=400 if form.errors else 200)


def _sent(request, email: str):
    """Post/redirect/get: the answer is a page of its own, so a reload or a second click sends
    nothing more (the submit-once token is spent only by a redirect)."""
    request.session[SENT_TO] = email
    return redirect("contact_sent")


def contact_sent(request):
    return render(request, "console/contact_sent.html", {"email": request.session.get(SENT_TO, "")})


def contact_confirm(request, token: str):
    """The link mailed to the person: GET shows what will be sent (a mail scanner following the link
    sends nothing); the button lands it."""
    try:
        submission = public.submission_read(token)
    except ValidationError as error:
        return render(request, "console/contact_gone.html", {"reason": " ".join(error.messages)}, status=410)
    school = open_schools().filter(pk=submission.school_id).first() if submission.school_id else None
    if request.method == "POST":
        try:
            with transaction.atomic():
                landed = public_request_land(submission=submission)
                tell.request_acknowledged_tell(landed, forwarded_to=school.name if school else None)
        except ValidationError as error:
            return render(request, "console/contact_gone.html", {"reason": " ".join(error.messages)}, status=409)
        return render(request, "console/contact_done.html", {
            "r": landed, "school": school, "deadline": states.request_deadline(landed)})
    return render(request, "console/contact_confirm.html", {
        "s": submission, "school": school, "kind": SubjectRequest.Kind(submission.kind).label})


@require_safe
def export_download(request, token: str):
    """The vendor's export, for the requester the link was mailed to (their verified address): no
    sign-in, the 256-bit token is the key, once, until it expires. HEAD (mail scanners, link
    previews) is answered without looking the link up."""
    if request.method == "HEAD":
        response = HttpResponse(content_type="text/html; charset=utf-8")
    else:
        try:
            link, content = export_links.vendor_export_download(token=token)
        except export_links.VendorExportUnavailable as error:
            return render(request, "console/contact_gone.html", {"reason": str(error)}, status=410)
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="request-{link.request_id}-{clock.today():%Y%m%d}.zip"'
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def identity_confirm(request, token: str):
    """The identity link mailed while a vendor's request waits for proof of identity."""
    try:
        schema, request_id, since = public.identity_token_read(token)
    except ValidationError as error:
        return render(request, "console/contact_gone.html", {"reason": " ".join(error.messages)}, status=410)
    if schema != connection.schema_name:
        raise Http404
    subject_request = SubjectRequest.objects.filter(pk=request_id).first()
    if subject_request is None:
        raise Http404
    waiting = (subject_request.state == SubjectRequest.State.AWAITING_IDENTITY and subject_request.paused_since == since
               and subject_request.pause_reason == SubjectRequest.PauseReason.IDENTITY)
    if not waiting:
        return render(request, "console/contact_gone.html", {
            "reason": "This link has been used already, or the request no longer waits for it."}, status=410)
    if request.method == "POST":
        states.request_identity_confirm(actor=Actor.system(), request=subject_request)  # its own transaction
        return render(request, "console/identity_done.html", {
            "r": subject_request, "deadline": states.request_deadline(subject_request)})
    return render(request, "console/identity_confirm.html", {"r": subject_request})
