"""The worker's side of outgoing mail: deliver one recorded message, retried with backoff; when
the retries are exhausted the broker sets the message aside (its dead letters, on the console's
dead letters page) and ``mail_delivery_failed`` marks the row failed with the reason."""

from __future__ import annotations

import dramatiq
import structlog

from shared.automation import automated
from shared.mail import delivery

log = structlog.get_logger(__name__)

QUEUE = "mail"
MAX_RETRIES = 5
MIN_BACKOFF_MS = 30_000  # 30 s, doubling: about 15 minutes in all before a message is set aside
MAX_BACKOFF_MS = 10 * 60_000


@dramatiq.actor(queue_name=QUEUE, max_retries=MAX_RETRIES, min_backoff=MIN_BACKOFF_MS, max_backoff=MAX_BACKOFF_MS,
                on_retry_exhausted="mail_delivery_failed")
@automated(title="Outgoing mail: delivers one recorded message to the mail server", reads_school_data=False,
           reads_detail="The recorded message (its address, subject and text), from the vendor's records.")
def mail_deliver(message_id: int) -> None:
    delivery.message_deliver(int(message_id))


@dramatiq.actor(queue_name=QUEUE, max_retries=3)
@automated(title="Outgoing mail: marks a message whose delivery retries ran out as failed",
           reads_school_data=False, sent_by="mail_deliver", reads_detail="The recorded message's state.")
def mail_delivery_failed(message_data, retry_info=None) -> None:
    try:
        pk = int(message_data["args"][0])
    except (TypeError, KeyError, IndexError, ValueError):
        log.error("mail.failed_unreadable", actor=getattr(message_data, "get", lambda *_: None)("actor_name"))
        return
    delivery.message_failed(pk)
