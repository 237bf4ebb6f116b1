"""A real SMTP server for the tests (aiosmtpd, on a free port of this machine), and the delivery of
queued mail.

- ``smtp`` (fixture): the session's server, emptied, with the settings pointed at it for the test.
  ``smtp.messages`` is every message it received since (``email.message.EmailMessage``, parsed with
  the modern policy); ``smtp.clear()`` empties it; ``smtp.links(message)`` lists the URLs in the
  message's plain-text part; ``smtp.text(message)`` / ``smtp.html(message)`` give its parts.
- ``mail_deliver_all()``: delivers every queued message (``OutgoingMessage`` still queued) by the
  worker's own code path (``shared.mail.services.message_deliver``) on the test's connection, which
  can see the rows the test's transaction made (a worker thread could not), and returns the
  messages sent. A delivery that fails raises, as it would make the worker retry.
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from shared.mail.links import URL_PATTERN


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Catcher:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SMTPServer:
    """The session's SMTP server: what it received, and how to read it."""

    def __init__(self) -> None:
        self.catcher = _Catcher()
        self.host = "127.0.0.1"
        self.port = free_port()
        self.controller = Controller(self.catcher, hostname=self.host, port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        with self.catcher.lock:
            return list(self.catcher.messages)

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        with self.catcher.lock:
            return list(self.catcher.envelopes)

    def clear(self) -> None:
        with self.catcher.lock:
            self.catcher.messages.clear()
            self.catcher.envelopes.clear()

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    @staticmethod
    def html(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""

    def links(self, message: EmailMessage) -> list[str]:
        return [url.rstrip(".,;:") for url in URL_PATTERN.findall(self.text(message))]


@pytest.fixture(scope="session")
def _smtp_server():
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
    server = SMTPServer()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def smtp(_smtp_server, settings) -> SMTPServer:
    settings.EMAIL_BACKEND = "shared.outgoing.OutgoingEmailBackend"
    settings.EMAIL_HOST = _smtp_server.host
    settings.EMAIL_PORT = _smtp_server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    _smtp_server.clear()
    yield _smtp_server
    _smtp_server.clear()


def mail_deliver_all() -> list:
    """Deliver every queued message, oldest first, as the worker would; the messages sent."""
    from shared.mail import selectors, services
    from shared.mail.models import OutgoingMessage

    sent = []
    for pk in selectors.messages_queued():
        if services.message_deliver(pk):
            sent.append(OutgoingMessage.objects.get(pk=pk))
    return sent
