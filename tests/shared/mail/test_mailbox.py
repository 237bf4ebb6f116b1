"""The embedded mail server of a development run keeps every message, and the development mailbox
lists and shows them (text escaped, HTML in a sandboxed frame with a policy of its own); outside
development there is no mailbox (404)."""

from __future__ import annotations

import smtplib
import time

import pytest
from django.conf import settings

from ops import mailcatcher
from shared.mail.services import mail_send
from shared.mail.topics import Topic
from tests.helpers import host_client
from tests.mail_fixtures import free_port, mail_deliver_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def catcher(tmp_path, monkeypatch, settings):
    """The embedded mail server on a free port, keeping into a folder of this test's own, with
    the settings pointed at it as a development run's are."""
    from aiosmtpd.controller import Controller

    folder = tmp_path / "mail"
    folder.mkdir()
    port = free_port()
    controller = Controller(mailcatcher.Keeper(folder), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.MAIL_MAILBOX_DIR = folder
    settings.EMAIL_BACKEND = "shared.outgoing.OutgoingEmailBackend"  # (pytest-django sets locmem)
    yield folder
    controller.stop()


def client():
    return host_client(settings.BASE_DOMAIN)


def test_a_sent_message_is_kept_and_shown_in_the_mailbox(catcher):
    mail_send(to="jane@example.org", template="test_message", context={"note": "<script>alert(1)</script>"},
              topic=Topic.PRODUCT_NEWS)
    mail_deliver_all()
    [kept] = list(catcher.glob("*.eml"))

    listing = client().get("/dev/mailbox/")
    page = client().get(f"/dev/mailbox/{kept.stem}/")
    html = client().get(f"/dev/mailbox/{kept.stem}/html/")

    assert listing.status_code == 200 and "A test message from Pupil Tracking" in listing.content.decode()
    assert "jane@example.org" in listing.content.decode()
    body = page.content.decode()
    assert "List-Unsubscribe" in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert(1)</script>" not in body
    assert f'sandbox="" src="/dev/mailbox/{kept.stem}/html/"' in body
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    policy = html["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'none'" in policy and "frame-ancestors 'self'" in policy
    assert html["X-Frame-Options"] == "SAMEORIGIN"
    assert "&lt;script&gt;" in html.content.decode()  # the message's own escaping, kept


def test_the_mailbox_lists_the_newest_first_and_refuses_odd_names(catcher):
    with smtplib.SMTP("127.0.0.1", settings.EMAIL_PORT) as server:
        for n in range(2):
            server.sendmail("a@localhost", ["b@example.org"], f"Subject: number {n}\r\n\r\nhello".encode())
            time.sleep(0.01)

    listing = client().get("/dev/mailbox/").content.decode()

    assert listing.index("number 1") < listing.index("number 0")
    for path in ("/dev/mailbox/../../etc/passwd/", "/dev/mailbox/nonsense/", "/dev/mailbox/20260101T000000000000-00000000/html/"):
        assert client().get(path).status_code == 404


def test_there_is_no_mailbox_outside_development(catcher, settings):
    settings.MAIL_MAILBOX_DIR = None
    assert client().get("/dev/mailbox/").status_code == 404
    settings.MAIL_MAILBOX_DIR, settings.PRODUCTION = catcher, True
    assert client().get("/dev/mailbox/").status_code == 404


def test_the_catcher_starts_nothing_when_mail_settings_are_set(monkeypatch, capsys):
    monkeypatch.setenv("EMAIL_HOST", "smtp.example.org")
    monkeypatch.setattr(mailcatcher.threading, "Event", lambda: type("E", (), {"wait": lambda self: None})())

    assert mailcatcher.main([]) == 0
    assert "sent to smtp.example.org" in capsys.readouterr().out
