"""One-time links to the vendor's subject exports: built when a request about the vendor's own
records is answered, mailed only to the requester's verified address (``orchestration.request_mail``),
handed out once and emptied, or emptied at expiry by the daily purge. As the school's
(``tenants.rights.services.export_build``): a 256-bit token, only its digest kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.privacy.exports.vendor import vendor_subject_export
from shared.privacy.models import SubjectRequest, VendorExportLink


class VendorExportUnavailable(Exception):
    """The link is unknown, used already, or expired: nothing is handed out."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def vendor_export_link_build(*, actor: Actor, request: SubjectRequest) -> tuple[VendorExportLink, str]:
    """The export of what the vendor holds under the requester's (verified) address, and the token
    of its one-time link (returned once)."""
    if request.state not in (SubjectRequest.State.IN_PROGRESS, SubjectRequest.State.EXTENDED):
        raise ValidationError("Confirm the person's identity and start the request before exporting their data.")
    if not request.requester_email or request.email_verified_on is None:
        raise ValidationError("The requester's email address is not verified, so no export link is made for it.")
    content = vendor_subject_export(request.requester_email)
    token = secrets.token_urlsafe(32)
    link = VendorExportLink.objects.create(request=request, token_digest=_digest(token), content=content,
                                           size=len(content),
                                           expires_at=clock.now() + dt.timedelta(days=settings.EXPORT_LINK_DAYS))
    change_log_record(actor=actor, instance=link, action=Action.CREATE, fields=["content"])
    return link, token


def vendor_export_download(*, token: str) -> tuple[VendorExportLink, bytes]:
    """Hand the export out once: its content is emptied as it is read."""
    with transaction.atomic():
        link = VendorExportLink.objects.select_for_update().filter(token_digest=_digest(token)).first()
        if link is None or link.downloaded_at is not None:
            raise VendorExportUnavailable("This link has been used already, or never existed.")
        if link.expires_at <= clock.now():
            raise VendorExportUnavailable("This link has expired. Ask us for a new export.")
        content = bytes(link.content)
        link.content, link.downloaded_at = b"", clock.now()
        link.save(update_fields=["content", "downloaded_at"])
    return link, content


def vendor_exports_expire() -> int:
    """Empty the exports past their expiry (the daily purge)."""
    return VendorExportLink.objects.filter(downloaded_at=None, expires_at__lte=clock.now()).update(
        content=b"", downloaded_at=clock.now())
