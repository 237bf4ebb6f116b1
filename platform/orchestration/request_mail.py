"""What a data subject is told about their request, by mail (topic REQUESTS: always sent), for the
vendor's requests and each school's: the acknowledgement with the deadline, the identity link, the
extension with its reason, the answer (with an export's one-time link, only to a verified address)
and a refusal with its reasons and the right to complain to the ICO. Nothing is sent to a request
without an email address. School mail carries the school's name and links to the school's site.

The ICO's complaint page is named as plain text ("ico.org.uk/make-a-complaint"): mail links only
to the product's own hosts (``shared.mail``), and a reader types or searches the address anyway.

Each ``*_tell`` is called inside the transaction of the change it reports, so a message is queued
only when the change is saved (``mail_send`` enqueues on commit), and a refused change sends nothing."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from shared.mail.links import absolute_url
from shared.mail.services import mail_send
from shared.mail.topics import Topic
from shared.privacy.request_base import SubjectRequestBase
from shared.privacy.requests import public
from shared.privacy.requests.services import request_deadline

NOT_VERIFIED = ("The requester's email address is not verified, so the export's link is not mailed to it. Ask for "
                "proof of identity (its mailed link verifies the address), or hand the link over another way.")


def request_phrase(kind: str) -> str:
    """How a message names the request: "access request", "complaint", "question"."""
    if kind in ("complaint", "question"):
        return kind
    return f"{SubjectRequestBase.Kind(kind).label.lower()} request"


def _send(request, template: str, *, school=None, **context):
    if not request.requester_email:
        return None
    # Only the requester's own name and their request: never whom it is about (a pupil's record).
    return mail_send(to=request.requester_email, template=f"requests/{template}", topic=Topic.REQUESTS, school=school,
                     context={"name": request.requester_name, "what": request_phrase(request.kind),
                              "received_on": request.received_on, "reference": request.pk, **context})


def request_acknowledged_tell(request, *, school=None, forwarded_to=None):
    """The request is received (or, ``forwarded_to`` a school's name, passed to that school), and its deadline."""
    return _send(request, "acknowledged", school=school, forwarded_to=forwarded_to,
                 deadline=request_deadline(request))


def request_identity_tell(request, *, school=None):
    """The link that confirms the requester's identity (and verifies their address), on the site
    that holds the request."""
    token = public.identity_token(schema=school.schema_name if school else connection.schema_name,
                                  request_id=request.pk, paused_since=request.paused_since)
    if school is None:
        path = reverse("request_identity", kwargs={"token": token}, urlconf="config.urls_public")
    else:
        path = reverse("rights_identity", kwargs={"token": token}, urlconf="config.urls_tenants")
    return _send(request, "identity", school=school, identity_url=absolute_url(path, school=school))


def request_extended_tell(request, *, school=None):
    return _send(request, "extended", school=school, months=request.extension_months,
                 reason=request.extension_reason, deadline=request_deadline(request))


def request_completed_tell(request, *, school=None, export_token: str | None = None,
                           expires_at: dt.datetime | None = None):
    """The answer; with an export's one-time link only to an address the requester has verified
    (refused otherwise, before anything is sent)."""
    context = {}
    if export_token is not None:
        if request.email_verified_on is None or not request.requester_email:
            raise ValidationError(NOT_VERIFIED)
        if school is None:  # the vendor's export, on the vendor's host
            path = reverse("request_export_download", kwargs={"token": export_token}, urlconf="config.urls_public")
        else:
            path = reverse("rights_export", kwargs={"token": export_token}, urlconf="config.urls_tenants")
        context = {"export_url": absolute_url(path, school=school), "expires_at": expires_at}
    return _send(request, "completed", school=school, **context)


def request_refused_tell(request, *, school=None):
    return _send(request, "refused", school=school, reason=request.refusal_reason)


def submission_confirm_tell(*, email: str, name: str, kind: str, token: str):
    """The link that confirms a public request page's submission (nothing is stored before)."""
    path = reverse("contact_confirm", kwargs={"token": token}, urlconf="config.urls_public")
    return mail_send(to=email, template="requests/confirm", topic=Topic.REQUESTS,
                     context={"name": name, "what": request_phrase(kind), "days": public.SUBMISSION_DAYS,
                              "confirm_url": absolute_url(path)})
