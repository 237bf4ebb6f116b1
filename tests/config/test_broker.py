"""Actors run in the schema they were enqueued from, on a real Redis broker and worker, and the
worker thread is always back on ``public`` afterwards."""

from __future__ import annotations

import uuid

import dramatiq
import pytest
import structlog
from django.db import connection
from django_tenants.utils import schema_context

from tenants.users.models import User

pytestmark = pytest.mark.django_db

QUEUE = f"test-broker-{uuid.uuid4().hex[:8]}"
seen: list[dict] = []


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def record_visible_users(label: str) -> None:
    seen.append({
        "label": label,
        "schema_at_start": connection.schema_name,
        "emails": sorted(User.objects.values_list("email", flat=True)),
        "log_context": structlog.contextvars.get_contextvars(),
    })


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def explode(label: str) -> None:
    seen.append({"label": label, "schema_at_start": connection.schema_name})
    raise RuntimeError("actor failed on purpose")


@pytest.fixture
def worker():
    broker = dramatiq.get_broker()
    broker.flush(QUEUE)
    seen.clear()
    worker = dramatiq.Worker(broker, queues={QUEUE}, worker_threads=1, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()
    broker.flush(QUEUE)


def run(worker, message_sender) -> None:
    """Send, then wait until the worker has finished with the message."""
    message_sender()
    worker.broker.join(QUEUE, timeout=20_000)
    worker.join()


def test_actor_enqueued_for_a_school_reads_only_that_school(worker, oakfield, riverside):
    with schema_context(oakfield.school.schema_name):
        run(worker, lambda: record_visible_users.send("oakfield"))
    with schema_context(riverside.school.schema_name):
        run(worker, lambda: record_visible_users.send("riverside"))

    by_label = {entry["label"]: entry for entry in seen}
    with schema_context(oakfield.school.schema_name):
        oakfield_emails = sorted(User.objects.values_list("email", flat=True))
    with schema_context(riverside.school.schema_name):
        riverside_emails = sorted(User.objects.values_list("email", flat=True))
    assert oakfield.demo.head_email in oakfield_emails and riverside.demo.head_email in riverside_emails
    assert by_label["oakfield"]["emails"] == oakfield_emails
    assert by_label["riverside"]["emails"] == riverside_emails
    assert by_label["oakfield"]["schema_at_start"] == oakfield.school.schema_name
    assert by_label["oakfield"]["log_context"]["schema"] == oakfield.school.schema_name
    assert by_label["oakfield"]["log_context"]["actor"] == "record_visible_users"


def test_next_actor_on_the_same_thread_starts_on_public(worker, oakfield):
    with schema_context(oakfield.school.schema_name):
        run(worker, lambda: record_visible_users.send("in-school"))
    run(worker, lambda: record_visible_users.send("public"))

    assert [e["schema_at_start"] for e in seen] == [oakfield.school.schema_name, "public"]
    # The public schema's users are the vendor's operators, not the school's staff.
    assert oakfield.demo.head_email not in seen[1]["emails"]


def test_next_actor_starts_on_public_after_an_actor_raised(worker, oakfield):
    with schema_context(oakfield.school.schema_name):
        run(worker, lambda: explode.send("boom"))
    run(worker, lambda: record_visible_users.send("after"))

    assert [e["schema_at_start"] for e in seen] == [oakfield.school.schema_name, "public"]


def test_the_schema_travels_in_the_message(oakfield):
    broker = dramatiq.get_broker()
    broker.flush(QUEUE)
    with schema_context(oakfield.school.schema_name):
        message = record_visible_users.send("carried")
    broker.flush(QUEUE)

    assert message.options["schema"] == oakfield.school.schema_name
