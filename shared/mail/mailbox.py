"""The development mailbox: the messages the embedded mail server (ops/mailcatcher.py) kept as
``.eml`` files in ``MAIL_MAILBOX_DIR``. Development only: where the setting is unset (production,
or any other settings) there is no mailbox and its pages are 404."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.conf import settings

_NAME = re.compile(r"^[0-9T]{15,30}-[0-9a-f]{8}$")
LIMIT = 200


class NoMailbox(Exception):
    """There is no development mailbox here."""


@dataclass(frozen=True)
class Kept:
    id: str
    to: str
    from_: str
    subject: str
    date: object
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [(name, str(value)) for name, value in self.message.items()]


def folder() -> Path:
    path = getattr(settings, "MAIL_MAILBOX_DIR", None)
    if not path:
        raise NoMailbox()
    return Path(path)


def _read(path: Path) -> Kept:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    try:
        date = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    return Kept(id=path.stem, to=str(message["To"] or ""), from_=str(message["From"] or ""),
                subject=str(message["Subject"] or ""), date=date, message=message)


def messages_kept(*, limit: int = LIMIT) -> list[Kept]:
    """The newest messages first."""
    path = folder()
    if not path.is_dir():
        return []
    files = sorted((p for p in path.glob("*.eml") if _NAME.match(p.stem)), reverse=True)[:limit]
    return [_read(p) for p in files]


def message_kept(message_id: str) -> Kept | None:
    if not _NAME.match(message_id or ""):
        return None
    path = folder() / f"{message_id}.eml"
    return _read(path) if path.is_file() else None
