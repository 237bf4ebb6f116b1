"""A database connection is closed once it has served DB_CONN_MAX_SCHOOLS schools, at the end of a
web request or of a worker's message; ``public`` does not count.

The requests run through Django's WSGI handler (which checks connections at the start and end of
every request, as under gunicorn) on a thread of their own, so on a connection of their own
outside the test's transaction; they read only the committed demo schools."""

from __future__ import annotations

import threading
import uuid

import dramatiq
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory
from django_tenants.utils import schema_context

from tenants.users.models import User

pytestmark = pytest.mark.django_db


def in_thread(work):
    """Run ``work`` on a new thread (so a new connection) and return what it returned."""
    outcome = {}

    def target():
        try:
            outcome["value"] = work()
        except BaseException as error:  # re-raised on the test's thread
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=60)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def serve(hosts: list[str]) -> list[dict]:
    """One GET of the privacy notice per host through the WSGI handler; for each request, the backend
    that served it and whether the connection was still open once the request had finished."""
    handler = WSGIHandler()
    seen = []
    for host in hosts:
        environ = RequestFactory().get("/privacy/", HTTP_HOST=host).environ
        response = handler(environ, lambda status, headers: None)
        pid = connection.connection.get_backend_pid()
        response.close()  # the WSGI server's call: sends request_finished
        seen.append({"status": response.status_code, "pid": pid, "open": connection.connection is not None})
    return seen


@pytest.fixture
def no_visit_log(settings):
    settings.VISIT_LOG_ENABLED = False  # these requests are not what the visit-log tests count


def test_connection_closes_after_serving_the_bound_of_distinct_schools(settings, no_visit_log, oakfield, riverside):
    settings.DB_CONN_MAX_SCHOOLS = 2
    oak, river, public = oakfield.hostname, riverside.hostname, settings.BASE_DOMAIN

    seen = in_thread(lambda: serve([oak, oak, river, oak, public, river, river]))

    assert [s["status"] for s in seen] == [200] * 7
    # Oakfield twice is one school; Riverside makes two: closed after that request. The next
    # connection counts afresh, and the public host is not a school.
    assert [s["open"] for s in seen] == [True, True, False, True, True, False, True]
    pids = [s["pid"] for s in seen]
    assert pids[0] == pids[1] == pids[2]
    assert pids[3] == pids[4] == pids[5] != pids[0]
    assert pids[6] not in (pids[0], pids[3])


def test_no_bound_keeps_one_connection_for_every_school(settings, no_visit_log, oakfield, riverside):
    settings.DB_CONN_MAX_SCHOOLS = 0

    seen = in_thread(lambda: serve([oakfield.hostname, riverside.hostname] * 3))

    assert all(s["open"] for s in seen)
    assert len({s["pid"] for s in seen}) == 1


QUEUE = f"test-lifetime-{uuid.uuid4().hex[:8]}"
backends: list[tuple[str, int, int]] = []


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def note_backend(label: str) -> None:
    User.objects.exists()  # a query in the message's school
    backends.append((label, connection.connection.get_backend_pid(), len(connection.schools_served)))


def test_worker_connection_closes_after_the_bound(settings, oakfield, riverside):
    settings.DB_CONN_MAX_SCHOOLS = 2
    broker = dramatiq.get_broker()
    broker.flush(QUEUE)
    backends.clear()
    worker = dramatiq.Worker(broker, queues={QUEUE}, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        for label, school in (("oak", oakfield), ("river", riverside), ("oak again", oakfield)):
            with schema_context(school.school.schema_name):
                note_backend.send(label)
            broker.join(QUEUE, timeout=20_000)
            worker.join()
    finally:
        worker.stop()
        broker.flush(QUEUE)

    (_, first, one), (_, second, two), (_, third, fresh) = backends
    assert (one, two, fresh) == (1, 2, 1)
    assert first == second != third
