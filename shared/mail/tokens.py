"""The tokens in mail links: one per address for its preferences page, and one per address and
topic for RFC 8058 one-click unsubscribe.

A token is the address sealed (Fernet: encrypted and authenticated) under a key derived from
SECRET_KEY and a salt of its own, so a URL that lands in a log, the visit log or a forwarded
message never shows the address, and no one can make a token for an address they were not sent.
No expiry: a footer link in an old message still works, and a token only ever lets its holder
choose what that one address receives."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from shared.mail.topics import Topic

PREFERENCES_SALT = "shared.mail.preferences"
UNSUBSCRIBE_SALT = "shared.mail.unsubscribe"
_MAX_TOKEN = 1000


def address_normal(address: str) -> str:
    return address.strip().lower()


def _fernet(salt: str) -> Fernet:
    digest = hashlib.sha256(f"{salt}:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _seal(salt: str, value) -> str:
    return _fernet(salt).encrypt(json.dumps(value).encode()).decode().rstrip("=")


def _open(salt: str, token: str):
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN:
        return None
    try:
        raw = _fernet(salt).decrypt((token + "=" * (-len(token) % 4)).encode())
        return json.loads(raw)
    except (InvalidToken, ValueError, UnicodeError, TypeError):
        return None


def preferences_token(address: str) -> str:
    return _seal(PREFERENCES_SALT, address_normal(address))


def preferences_address(token: str) -> str | None:
    """The address a preferences token was made for, or None for a bad token."""
    address = _open(PREFERENCES_SALT, token)
    return address if isinstance(address, str) and "@" in address else None


def unsubscribe_token(address: str, topic: Topic) -> str:
    return _seal(UNSUBSCRIBE_SALT, [address_normal(address), str(topic)])


def unsubscribe_claim(token: str) -> tuple[str, Topic] | None:
    """The address and (non-critical) topic an unsubscribe token was made for, or None."""
    value = _open(UNSUBSCRIBE_SALT, token)
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        return None
    try:
        topic = Topic(value[1])
    except ValueError:
        return None
    if topic.critical or "@" not in value[0]:
        return None
    return value[0], topic
