"""Delivery on a real dramatiq worker (Redis broker, in-process worker): a message is sent by the
worker; a mail server that refuses the connection makes the worker retry with backoff, then set
the message aside in the broker's dead letters (on the console's page) and mark the row failed
with the reason. The rows are committed (a worker's connection cannot see the test's transaction)
and removed afterwards."""

from __future__ import annotations

import time

import dramatiq
import pytest

from shared.audit import selectors as audit_selectors
from shared.mail.models import OutgoingMessage
from shared.mail.services import mail_send
from shared.mail.tasks import QUEUE, mail_deliver
from shared.mail.topics import Topic
from tests.helpers import committed, console_client
from tests.mail_fixtures import free_port

pytestmark = pytest.mark.django_db

COLUMNS = ("to", "topic", "template", "sender", "from_email", "subject", "body_text", "body_html", "headers",
           "message_id", "state", "attempts", "last_error", "created_at")


@pytest.fixture
def mail_worker():
    broker = dramatiq.get_broker()
    broker.flush(QUEUE)
    worker = dramatiq.Worker(broker, queues={QUEUE}, worker_threads=1, worker_timeout=100)
    worker.start()
    made: list[int] = []
    yield broker, worker, made
    worker.stop()
    broker.flush(QUEUE)
    with committed() as cursor:
        cursor.execute("DELETE FROM mail_outgoingmessage WHERE id = ANY(%s)", [made])
        cursor.execute("DELETE FROM technical_automatedrun WHERE process LIKE 'mail_%%'")


def committed_copy(message: OutgoingMessage, made: list[int]) -> int:
    """The message as a committed row the worker can read; its id."""
    import json

    values = [getattr(message, column) for column in COLUMNS]
    values[COLUMNS.index("headers")] = json.dumps(message.headers)
    # (its own Message-ID: the test's uncommitted row holds the first, and the index would wait on it)
    values[COLUMNS.index("message_id")] = message.message_id.replace("@", ".worker@")
    with committed() as cursor:
        names = ", ".join(f'"{column}"' for column in COLUMNS)
        cursor.execute(f"INSERT INTO mail_outgoingmessage ({names}) "
                       f"VALUES ({', '.join(['%s'] * len(COLUMNS))}) RETURNING id", values)
        pk = cursor.fetchone()[0]
    made.append(pk)
    return pk


def row(pk: int) -> tuple:
    with committed() as cursor:
        cursor.execute("SELECT state, attempts, last_error, sent_at IS NOT NULL, failed_at IS NOT NULL "
                       "FROM mail_outgoingmessage WHERE id = %s", [pk])
        return cursor.fetchone()


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def test_the_worker_delivers_a_message_once(mail_worker, smtp):
    broker, worker, made = mail_worker
    message = mail_send(to="a@example.org", template="test_message", context={}, topic=Topic.SECURITY)
    pk = committed_copy(message, made)

    mail_deliver.send(pk)
    mail_deliver.send(pk)  # a redelivered message
    broker.join(QUEUE, timeout=20_000)
    worker.join()

    assert row(pk)[:2] == ("sent", 1) and row(pk)[3] is True
    assert len(smtp.messages) == 1 and smtp.messages[0]["Message-ID"] == message.message_id.replace("@", ".worker@")


def test_a_refused_connection_is_retried_then_set_aside_and_the_message_marked_failed(mail_worker, smtp, settings):
    broker, worker, made = mail_worker
    message = mail_send(to="a@example.org", template="test_message", context={}, topic=Topic.SECURITY)
    pk = committed_copy(message, made)
    settings.EMAIL_PORT = free_port()  # nothing listens there

    sent = broker.enqueue(mail_deliver.message_with_options(args=(pk,), max_retries=2, min_backoff=10,
                                                            max_backoff=20))
    broker.join(QUEUE, timeout=20_000)
    worker.join()
    assert wait_for(lambda: row(pk)[0] == "failed")

    state, attempts, last_error, was_sent, failed = row(pk)
    assert (state, attempts, was_sent, failed) == ("failed", 3, False, True)
    assert last_error.startswith("ConnectionRefusedError")
    letters = [letter for letter in audit_selectors.dead_letter_messages() if letter.queue == QUEUE]
    assert [(letter.message_id, letter.actor, letter.retries) for letter in letters] == [
        (sent.message_id, "mail_deliver", 2)]  # three attempts: the first and two retries
    page = console_client("administrator").get("/console/technical/dead-letters/").content.decode()
    assert sent.message_id in page and "mail_deliver" in page
    assert "a@example.org" not in page
    assert smtp.messages == []
