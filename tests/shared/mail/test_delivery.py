"""Outgoing mail reaches a real SMTP server (aiosmtpd on this machine): rendered in plain text and
HTML, sent once, enqueued only when the transaction commits, with one-click unsubscribe headers on
non-critical topics only; a link to another host is refused before anything is recorded."""

from __future__ import annotations

import pytest

from shared.mail import services
from shared.mail.models import MailPreference, OutgoingMessage
from shared.mail.services import mail_send
from shared.mail.topics import Topic
from tests.mail_fixtures import mail_deliver_all

pytestmark = pytest.mark.django_db


def test_a_message_reaches_the_smtp_server_in_text_and_html(smtp):
    message = mail_send(to="Head@Example.org", template="test_message", context={"note": "Hello & welcome"},
                        topic=Topic.SECURITY)

    assert message.state == OutgoingMessage.State.QUEUED and smtp.messages == []
    [sent] = mail_deliver_all()
    [received] = smtp.messages
    text, html = smtp.text(received), smtp.html(received)
    assert sent.pk == message.pk and sent.state == OutgoingMessage.State.SENT and sent.attempts == 1
    assert received["To"] == "head@example.org"
    assert received["Subject"] == "A test message from Pupil Tracking"
    assert received["From"] == "Pupil Tracking <no-reply@localhost>"
    assert received["Message-ID"] == message.message_id
    assert smtp.envelopes == [("no-reply@localhost", ["head@example.org"])]
    assert "Hello & welcome" in text and "Hello &amp; welcome" in html
    assert "<img" not in html
    # critical: no unsubscribe header, and the footer says why it is always sent
    assert received["List-Unsubscribe"] is None and received["List-Unsubscribe-Post"] is None
    assert "You receive this message whatever your mail preferences, because it keeps your account safe" in text
    assert smtp.links(received) == ["http://localhost:8000/",
                                    f"http://localhost:8000/mail/preferences/{_token(smtp.links(received)[1])}/"]


def _token(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def test_a_non_critical_message_carries_one_click_unsubscribe(smtp):
    mail_send(to="someone@example.org", template="test_message", context={}, topic=Topic.PRODUCT_NEWS, sender="news")
    mail_deliver_all()

    [received] = smtp.messages
    unsubscribe = str(received["List-Unsubscribe"]).strip()  # folded: it is longer than a line
    assert unsubscribe.startswith("<http://localhost:8000/mail/unsubscribe/") and unsubscribe.endswith("/>")
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe[1:-1] in smtp.links(received)
    assert "whatever your mail preferences" not in smtp.text(received)


def test_school_mail_shows_the_school_and_links_to_its_host(smtp, oakfield):
    mail_send(to="parent@example.org", template="test_message", context={}, topic=Topic.REQUESTS,
              school=oakfield.school)
    mail_deliver_all()

    [received] = smtp.messages
    assert received["Subject"] == f"A test message from {oakfield.school.name}"
    assert f"Sent for {oakfield.school.name} by Pupil Tracking." in smtp.text(received)
    assert smtp.links(received)[0] == f"http://{oakfield.hostname}:8000/"
    assert oakfield.school.name in smtp.html(received)


def test_delivery_is_asked_for_only_when_the_transaction_commits(django_capture_on_commit_callbacks, monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr("shared.mail.tasks.mail_deliver.send", lambda pk: sent.append(pk))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = mail_send(to="a@example.org", template="test_message", context={}, topic=Topic.SECURITY)
        assert sent == []

    assert len(callbacks) == 1 and sent == [message.pk]


def test_a_message_already_sent_is_not_sent_again(smtp):
    message = mail_send(to="a@example.org", template="test_message", context={}, topic=Topic.SECURITY)

    assert services.message_deliver(message.pk) is True
    assert services.message_deliver(message.pk) is False  # a redelivered worker message
    assert mail_deliver_all() == []
    assert len(smtp.messages) == 1
    message.refresh_from_db()
    assert message.attempts == 1


@pytest.mark.parametrize("note", [
    "https://evil.example/phish",
    "see http://localhost.evil.example/",
    "//cdn.example.com/x.js",
])
def test_a_link_to_another_host_is_refused_and_nothing_is_recorded(smtp, note):
    before = OutgoingMessage.objects.count()

    with pytest.raises(ValueError, match="product's own hosts"):
        mail_send(to="a@example.org", template="test_message", context={"note": note}, topic=Topic.SECURITY)

    assert OutgoingMessage.objects.count() == before
    assert mail_deliver_all() == [] and smtp.messages == []


@pytest.mark.parametrize("to", ["", "not an address", "a@b@c", "x" * 250 + "@example.org", "a@example.org\nBcc: b@x"])
def test_a_bad_address_is_refused(to):
    before = OutgoingMessage.objects.count()

    with pytest.raises(ValueError):
        mail_send(to=to, template="test_message", context={}, topic=Topic.SECURITY)

    assert OutgoingMessage.objects.count() == before


def test_a_bad_template_or_sender_is_refused():
    before = OutgoingMessage.objects.count()
    with pytest.raises(ValueError):
        mail_send(to="a@example.org", template="../secret", context={}, topic=Topic.SECURITY)
    with pytest.raises(ValueError):
        mail_send(to="a@example.org", template="test_message", context={}, topic=Topic.SECURITY, sender="ceo")
    assert OutgoingMessage.objects.count() == before


def test_an_address_that_opted_out_of_a_topic_gets_none_of_it_but_still_gets_critical_mail(smtp):
    MailPreference.objects.create(address="a@example.org", unsubscribed=[Topic.WEBINARS.value])

    assert mail_send(to="A@example.org", template="test_message", context={}, topic=Topic.WEBINARS) is None
    assert mail_send(to="a@example.org", template="test_message", context={}, topic=Topic.PRODUCT_NEWS) is not None
    assert mail_send(to="a@example.org", template="test_message", context={}, topic=Topic.SECURITY) is not None
    assert len(mail_deliver_all()) == 2


def test_topics_say_which_are_critical():
    assert {t for t in Topic if t.critical} == {Topic.SECURITY, Topic.REQUESTS, Topic.LEGAL, Topic.SUPPORT,
                                               Topic.ALERTS}
    assert not Topic.MARKETING.critical and all(t.why for t in Topic if t.critical)


def test_school_mail_wears_the_school_accent_colour_and_never_a_bad_one(smtp, oakfield, riverside, monkeypatch):
    from django_tenants.utils import schema_context

    from tenants.configuration.models import Branding

    with schema_context(oakfield.school.schema_name):
        Branding.objects.update_or_create(pk=Branding.objects.values_list("pk", flat=True).first(),
                                          defaults={"accent_colour": "#AA3300"})
    mail_send(to="a@example.org", template="test_message", context={}, topic=Topic.REQUESTS, school=oakfield.school)
    mail_send(to="b@example.org", template="test_message", context={}, topic=Topic.REQUESTS, school=riverside.school)
    mail_deliver_all()
    oak, river = sorted(smtp.messages, key=lambda m: str(m["To"]))
    assert "#aa3300" in smtp.html(oak) and "#aa3300" not in smtp.html(river)

    monkeypatch.setattr("shared.mail.branding.accent_reader", lambda school: "red;background:url(//x.example/p.png)")
    smtp.clear()
    mail_send(to="c@example.org", template="test_message", context={}, topic=Topic.REQUESTS, school=oakfield.school)
    [sent] = mail_deliver_all()
    assert "x.example" not in sent.body_html and "#1d4f91" in sent.body_html


def test_a_message_whose_delivery_was_never_asked_for_is_asked_for_again(monkeypatch):
    import datetime as dt

    from shared import clock
    from shared.mail import tasks

    made = dt.datetime(2027, 5, 4, 9, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(clock, "now", lambda: made)
    lost = mail_send(to="a@example.org", template="test_message", context={}, topic=Topic.SECURITY)
    asked: list[int] = []
    monkeypatch.setattr(tasks.mail_deliver, "send", lambda pk: asked.append(pk))

    for minutes, expected in [(30, []), (61, [lost.pk]), (3 * 24 * 60, [])]:
        asked.clear()
        monkeypatch.setattr(clock, "now", lambda minutes=minutes: made + dt.timedelta(minutes=minutes))
        tasks.mail_queued_sweep.fn()
        assert asked == expected, minutes


def test_the_broker_being_down_never_fails_the_sender(monkeypatch, django_capture_on_commit_callbacks):
    from shared.mail import tasks

    def down(pk):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.mail_deliver, "send", down)
    with django_capture_on_commit_callbacks(execute=True):
        message = mail_send(to="a@example.org", template="test_message", context={}, topic=Topic.SECURITY)

    assert OutgoingMessage.objects.get(pk=message.pk).state == OutgoingMessage.State.QUEUED


def test_the_mail_test_command_sends_at_once(smtp):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("mail_test", "--to", "ops@example.org", stdout=out)

    assert out.getvalue().startswith("Sent to ops@example.org") and len(smtp.messages) == 1
    with pytest.raises(CommandError, match="not an email address"):
        call_command("mail_test", "--to", "nobody")


def test_mail_sent_from_inside_a_schools_schema_is_recorded_in_public_and_delivered(smtp, oakfield):
    from django.db import connection
    from django_tenants.utils import schema_context

    with schema_context(oakfield.school.schema_name):
        message = mail_send(to="head@example.org", template="test_message", context={}, topic=Topic.SUPPORT,
                            school=oakfield.school)
        assert connection.schema_name == oakfield.school.schema_name
        [sent] = mail_deliver_all()

    assert OutgoingMessage.objects.filter(pk=message.pk, state=OutgoingMessage.State.SENT).exists()
    assert sent.pk == message.pk and len(smtp.messages) == 1
