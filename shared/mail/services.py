"""Writes on outgoing mail: ``mail_send`` (render, check, record, deliver on commit). The delivery
itself is ``shared.mail.delivery`` (what the worker's ``mail_deliver`` runs), named here too."""

from __future__ import annotations

import re

import structlog
from django.conf import settings
from django.core.mail.message import make_msgid
from django.db import transaction
from django.template.loader import render_to_string

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.mail import tasks
from shared.mail.branding import brand_for
from shared.mail.delivery import message_deliver, message_failed  # noqa: F401 (named here for callers)
from shared.mail.links import absolute_url, links_check
from shared.mail.models import MailPreference, OutgoingMessage
from shared.mail.selectors import wants
from shared.mail.tokens import address_normal, preferences_token, unsubscribe_token
from shared.mail.topics import Topic, critical_topics, optional_topics

log = structlog.get_logger(__name__)

SENDERS = ("service", "privacy", "news")
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)*$")


def sender_address(sender: str) -> str:
    """The From address for a sender purpose (``MAIL_FROM`` in the settings)."""
    if sender not in SENDERS:
        raise ValueError(f"unknown mail sender {sender!r}: one of {', '.join(SENDERS)}")
    return settings.MAIL_FROM.get(sender) or settings.DEFAULT_FROM_EMAIL


def mail_send(*, to: str, template: str, context: dict, topic: Topic, school=None,
              sender: str = "service") -> OutgoingMessage | None:
    """Render ``mail/<template>.subject.txt``, ``.txt`` and ``.html`` for ``to``, record the
    message and deliver it once the transaction commits. None, and nothing sent, when ``to`` has
    turned ``topic`` off. ValueError for a bad address, template or sender, or a link to a host
    that is not the product's (nothing is recorded)."""
    topic = Topic(topic)
    address = address_normal(to)
    if not re.fullmatch(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.?[^@\s<>,;\"]*", address) or len(address) > 254:
        raise ValueError("mail_send: the address is not an email address")
    if not _TEMPLATE_NAME.match(template):
        raise ValueError(f"mail_send: bad template name {template[:60]!r}")
    from_email = sender_address(sender)
    if not wants(address, topic):
        log.info("mail.not_sent_opted_out", template=template, topic=str(topic))
        return None

    brand = brand_for(school)
    preferences_url = absolute_url(f"/mail/preferences/{preferences_token(address)}/")
    headers: dict[str, str] = {}
    unsubscribe_url = ""
    if not topic.critical:
        unsubscribe_url = absolute_url(f"/mail/unsubscribe/{unsubscribe_token(address, topic)}/")
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    full_context = {
        **context,
        "mail": {
            "to": address, "topic": topic, "critical": topic.critical, "why": topic.why,
            "brand": brand, "school": school, "preferences_url": preferences_url,
            "unsubscribe_url": unsubscribe_url, "home_url": absolute_url("/", school=school),
            "critical_topics": critical_topics(),
        },
    }
    subject = " ".join(render_to_string(f"mail/{template}.subject.txt", full_context).split())
    text = render_to_string(f"mail/{template}.txt", full_context)
    html = render_to_string(f"mail/{template}.html", full_context)
    links_check(text=text, html=html)
    if not subject:
        raise ValueError(f"mail_send: mail/{template}.subject.txt renders no subject")

    message = OutgoingMessage.objects.create(
        to=address, topic=str(topic), template=template, sender=sender, from_email=from_email,
        subject=subject[:255], body_text=text, body_html=html, headers=headers, school=school, created_at=clock.now(),
        message_id=make_msgid(domain=settings.MAIL_MESSAGE_ID_DOMAIN or settings.BASE_DOMAIN),
    )
    transaction.on_commit(lambda pk=message.pk: _deliver_later(pk))
    log.info("mail.queued", message=message.pk, template=template, topic=str(topic))
    return message


def _deliver_later(pk: int) -> None:
    try:
        tasks.mail_deliver.send(pk)
    except Exception as error:  # noqa: BLE001 - the broker is down: the sweep asks again (mail_queued_sweep)
        log.error("mail.not_queued", message=pk, error=type(error).__name__)


# --- Preferences ---------------------------------------------------------------------------------


def preferences_set(*, address: str, receives: set[Topic]) -> MailPreference:
    """Record which non-critical topics ``address`` receives (the rest it has turned off); critical
    topics are always sent and cannot be turned off. Change-logged (field names only)."""
    address = address_normal(address)
    unsubscribed = sorted(str(t) for t in optional_topics() if t not in set(receives))
    with transaction.atomic():
        preference, created = MailPreference.objects.select_for_update().get_or_create(
            address=address, defaults={"unsubscribed": unsubscribed, "changed_at": clock.now()})
        if not created:
            if preference.unsubscribed == unsubscribed:
                return preference
            preference.unsubscribed = unsubscribed
            preference.changed_at = clock.now()
            preference.save(update_fields=["unsubscribed", "changed_at"])
        change_log_record(actor=Actor.system(), instance=preference, action=Action.CREATE if created else Action.UPDATE,
                          fields=["address", "unsubscribed", "changed_at"] if created else ["unsubscribed", "changed_at"])
    log.info("mail.preferences_set", preference=preference.pk, turned_off=len(unsubscribed))
    return preference


def topic_unsubscribe(*, address: str, topic: Topic) -> MailPreference:
    """Turn one non-critical topic off for ``address`` (RFC 8058 one-click unsubscribe)."""
    topic = Topic(topic)
    if topic.critical:
        raise ValueError(f"{topic.label} messages are always sent: they cannot be turned off")
    receives = {t for t in optional_topics() if t != topic and wants(address, t)}
    return preferences_set(address=address, receives=receives)


def messages_to_address_erase(address: str) -> int:
    """Delete the mail log's record of every message sent to ``address``, or given up on: an erasure
    takes the person's mail log with it. A message still waiting to be sent stays, to be delivered
    (it may be the answer to the erasure request itself), and goes by the log's own 365 days."""
    if not address or not address.strip():
        return 0
    return (OutgoingMessage.objects.filter(to__iexact=address_normal(address))
            .exclude(state=OutgoingMessage.State.QUEUED).delete()[0])
