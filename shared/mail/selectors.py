"""Reads on outgoing mail and preferences."""

from __future__ import annotations

from shared.mail.models import MailPreference, OutgoingMessage
from shared.mail.tokens import address_normal
from shared.mail.topics import Topic


def unsubscribed_topics(address: str) -> set[Topic]:
    """The non-critical topics ``address`` has turned off."""
    row = MailPreference.objects.filter(address=address_normal(address)).first()
    if row is None:
        return set()
    return {Topic(t) for t in row.unsubscribed if t in Topic.__members__.values() and not Topic(t).critical}


def wants(address: str, topic: Topic) -> bool:
    return topic.critical or topic not in unsubscribed_topics(address)


def messages_queued() -> list[int]:
    return list(OutgoingMessage.objects.filter(state=OutgoingMessage.State.QUEUED)
                .order_by("created_at", "id").values_list("pk", flat=True))
