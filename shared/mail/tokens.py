"""The signed tokens in mail links: one per address for its preferences page, and one per address
and topic for RFC 8058 one-click unsubscribe. No expiry: a footer link in an old message still
works, and a token only ever lets its holder choose what that address receives."""

from __future__ import annotations

from django.core import signing

from shared.mail.topics import Topic

PREFERENCES_SALT = "shared.mail.preferences"
UNSUBSCRIBE_SALT = "shared.mail.unsubscribe"


def address_normal(address: str) -> str:
    return address.strip().lower()


def preferences_token(address: str) -> str:
    return signing.dumps(address_normal(address), salt=PREFERENCES_SALT, compress=True)


def preferences_address(token: str) -> str | None:
    """The address a preferences token was made for, or None for a bad token."""
    try:
        address = signing.loads(token, salt=PREFERENCES_SALT)
    except signing.BadSignature:
        return None
    return address if isinstance(address, str) and "@" in address else None


def unsubscribe_token(address: str, topic: Topic) -> str:
    return signing.dumps([address_normal(address), str(topic)], salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_claim(token: str) -> tuple[str, Topic] | None:
    """The address and (non-critical) topic an unsubscribe token was made for, or None."""
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        return None
    try:
        topic = Topic(value[1])
    except ValueError:
        return None
    if topic.critical or "@" not in value[0]:
        return None
    return value[0], topic
