"""Delivering one recorded message over SMTP, at most once (what the worker's ``mail_deliver``
runs), and marking one whose retries ran out as failed."""

from __future__ import annotations

import structlog
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction

from shared import clock
from shared.mail.models import OutgoingMessage

log = structlog.get_logger(__name__)


def message_deliver(pk: int) -> bool:
    """Send one recorded message over SMTP, once: True if sent now; False if there is nothing to do
    (already sent, already failed, gone). A failure is counted on the row and raised, for the
    worker to retry."""
    error: Exception | None = None
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().filter(pk=pk).first()
        if message is None or message.state != OutgoingMessage.State.QUEUED:
            log.info("mail.delivery_skipped", message=pk, state=getattr(message, "state", None))
            return False
        message.attempts += 1
        try:
            email_of(message).send()
        except Exception as exc:  # noqa: BLE001 - recorded on the row, then raised for the retry
            error = exc
            message.last_error = error_describe(exc)
            message.save(update_fields=["attempts", "last_error"])
        else:
            message.state = OutgoingMessage.State.SENT
            message.sent_at = clock.now()
            message.last_error = ""
            message.save(update_fields=["attempts", "state", "sent_at", "last_error"])
    if error is not None:
        log.warning("mail.delivery_failed", message=pk, attempts=message.attempts, error=type(error).__name__)
        raise error
    log.info("mail.sent", message=pk, attempts=message.attempts)
    return True


def message_failed(pk: int) -> None:
    """Mark a message whose retries are exhausted as failed, keeping the last error as the reason."""
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().filter(pk=pk).first()
        if message is None or message.state != OutgoingMessage.State.QUEUED:
            return
        message.state = OutgoingMessage.State.FAILED
        message.failed_at = clock.now()
        message.last_error = message.last_error or "retries exhausted"
        message.save(update_fields=["state", "failed_at", "last_error"])
    log.error("mail.failed", message=pk, attempts=message.attempts)


def error_describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def email_of(message: OutgoingMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject, body=message.body_text, from_email=message.from_email, to=[message.to],
        headers={**message.headers, "Message-ID": message.message_id}, connection=get_connection(),
    )
    email.attach_alternative(message.body_html, "text/html")
    return email
