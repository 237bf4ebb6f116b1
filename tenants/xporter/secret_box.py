"""The school's Xporter secret, sealed at rest with Fernet (``cryptography``): keys from
``settings.XPORTER_SECRET_KEYS``, the first seals, every one opens, so a key is rotated by putting
the new one first and keeping the old one second until every secret is sealed again (saving a
connection reseals it with the first key)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored secret opens with none of the configured keys."""


def _keys() -> list[Fernet]:
    keys = list(getattr(settings, "XPORTER_SECRET_KEYS", []) or [])
    if not keys:
        raise SecretUnreadable("XPORTER_SECRET_KEYS is not set: the school's Xporter secret cannot be sealed or read")
    return [Fernet(key) for key in keys]


def seal(plaintext: str) -> str:
    return MultiFernet(_keys()).encrypt(plaintext.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return MultiFernet(_keys()).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "The school's Xporter secret cannot be read with the keys in XPORTER_SECRET_KEYS (was the key that "
            "sealed it removed?): keep the old key after the new one until every secret is resealed, or enter "
            "the secret again") from None


def reseal(sealed: str) -> str:
    """``sealed`` under the first key (unchanged when it already is)."""
    keys = _keys()
    try:
        keys[0].decrypt(sealed.encode())
        return sealed
    except InvalidToken:
        pass
    try:
        return MultiFernet(keys).rotate(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("The school's Xporter secret cannot be resealed: none of the keys in "
                               "XPORTER_SECRET_KEYS opens it") from None
