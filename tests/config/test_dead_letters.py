"""Work the workers give up on is set aside where an operator sees it, and never stops the rest:
dramatiq messages that exhaust their retries land in their queue's dead-letter set, are logged and
counted on the console; every buffer's bad items are set aside while its good items land. On a
real Redis broker and an in-process worker."""

from __future__ import annotations

import json
import time
import uuid

import dramatiq
import pytest
from structlog.testing import capture_logs

from shared import clock
from shared.audit import selectors
from shared.audit.models import Visit
from shared.clients import last_use
from shared.deadletter import BUFFERS, JOBS, deadletter_key
from shared.redis_client import key, redis_client
from tests.helpers import console_client

pytestmark = pytest.mark.django_db

QUEUE = f"test-dead-{uuid.uuid4().hex[:8]}"
calls: list[str] = []


@dramatiq.actor(queue_name=QUEUE, max_retries=1, min_backoff=10, max_backoff=10)
def always_fails(pupil_id: int, note: str) -> None:
    calls.append(note)
    raise RuntimeError(f"failed on purpose for {note}")


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def succeeds(note: str) -> None:
    calls.append(note)


def buffers_empty() -> None:
    redis_client().delete(*(key(buffer) for buffer in BUFFERS), *(deadletter_key(name) for name in BUFFERS + JOBS))


@pytest.fixture
def broker():
    broker = dramatiq.get_broker()
    broker.flush_all()
    buffers_empty()
    calls.clear()
    yield broker
    broker.flush_all()
    buffers_empty()
    # The worker's own connection commits what the actors record (their last runs): remove it.
    from tests.helpers import committed

    with committed() as cursor:
        cursor.execute("DELETE FROM technical_automatedrun")


@pytest.fixture
def worker(broker):
    # Stopped only at teardown: stopping closes every database connection, the test's too.
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()


def run(worker, queues: set[str]) -> None:
    """Wait until ``queues`` are empty, retries and all."""
    for queue in queues:
        worker.broker.join(queue, timeout=30_000)
    worker.join()


def wait_for(predicate, timeout: float = 5.0):
    """The consumer thread acks and nacks after the queue looks empty: give it a moment."""
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def test_an_actor_that_always_fails_ends_in_the_dead_letter_queue_logged_and_on_the_console(worker):
    with capture_logs() as events:
        failing = always_fails.send(41, "secret-note-of-jane")
        succeeds.send("after")
        run(worker, {QUEUE})
        assert wait_for(lambda: any(e["event"] == "dramatiq.message_dead_lettered" for e in events))

    [letter] = selectors.dead_letter_messages()
    summary = selectors.dead_letters_summary()
    [event] = [e for e in events if e["event"] == "dramatiq.message_dead_lettered"]
    admin = console_client("administrator")
    dashboard = admin.get("/console/").content.decode()
    page = admin.get("/console/technical/dead-letters/").content.decode()
    assert sorted(calls) == ["after", "secret-note-of-jane", "secret-note-of-jane"]
    assert (letter.queue, letter.actor, letter.message_id, letter.retries, letter.error) == (
        QUEUE, "always_fails", failing.message_id, 1, "RuntimeError")
    assert summary == {"messages": {QUEUE: 1}, "items": {}, "total": 1}
    assert (event["message_id"], event["actor"], event["queue"], event["retries"], event["error"]) == (
        failing.message_id, "always_fails", QUEUE, 2, "RuntimeError")
    assert '<strong>1</strong><span>dead letters</span>' in dashboard
    assert failing.message_id in page and "always_fails" in page and "RuntimeError" in page
    assert page.count(failing.message_id) == 1  # in its row, and nowhere else (no flash message)
    assert "secret-note-of-jane" not in page and "secret-note-of-jane" not in repr(events)


def test_the_dead_letters_page_is_for_administrators_and_the_dpo_only(broker):
    assert console_client("administrator").get("/console/technical/dead-letters/").status_code == 200
    assert console_client("dpo").get("/console/technical/dead-letters/").status_code == 200
    assert console_client("support").get("/console/technical/dead-letters/").status_code == 403
    assert "dead letters" not in console_client("billing").get("/console/").content.decode()


def product_actors(broker) -> list:
    """Every actor of the product, its task modules imported as the worker imports them."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("tasks")
    return [broker.get_actor(name) for name in sorted(broker.get_declared_actors())
            if broker.get_actor(name).fn.__module__.split(".")[0] in {"shared", "tenants", "orchestration"}]


def test_every_product_actor_has_bounded_retries():
    from dramatiq.middleware.retries import Retries

    broker = dramatiq.get_broker()
    product = {actor.actor_name: actor for actor in product_actors(broker)}
    retries = next(m for m in broker.middleware if isinstance(m, Retries))

    def worst_case_ms(actor) -> int:
        count = actor.options["max_retries"]
        low = actor.options.get("min_backoff", retries.min_backoff)
        high = actor.options.get("max_backoff", retries.max_backoff)
        return sum(min(low * 2**n, high) for n in range(count))

    assert {"visits_flush", "retention_school", "xporter_sync_school", "pool_top_up"} <= set(product)
    unbounded = sorted(name for name, actor in product.items() if "max_retries" not in actor.options)
    assert unbounded == []
    assert {name: actor.options["max_retries"] for name, actor in product.items()
            if actor.options["max_retries"] > 5} == {}
    assert {name: worst_case_ms(actor) for name, actor in product.items()
            if worst_case_ms(actor) > 24 * 3600 * 1000} == {}


def good_visit(n: int) -> str:
    return json.dumps([clock.now().isoformat(), "oakfield.localhost", f"/good/{n}/", "GET", 200, "192.0.2.1",
                       None, "public"])


# Every buffer the product keeps: how to make a good item, and the job that empties it.
BUFFER_CASES = {
    "visits": (good_visit, lambda: last_use.visits_flush(batch_size=3)),
}
POISON = ["\x00", "{not json", "\udcff".encode("utf-8", "surrogatepass"), "x" * 100_000,
          json.dumps([clock.now().isoformat(), "h", "/\x00", "GET", 200, None, None, "public"])]


def test_the_poison_cases_cover_every_buffer():
    assert set(BUFFER_CASES) == set(BUFFERS)


@pytest.mark.parametrize("buffer", sorted(BUFFER_CASES))
def test_poisoned_buffers_land_their_good_items_and_set_the_bad_ones_aside(broker, buffer):
    make_good, flush = BUFFER_CASES[buffer]
    good = [make_good(n) for n in range(6)]
    items = [good[0], POISON[0], good[1], good[2], POISON[1], POISON[2], good[3], POISON[3], good[4], POISON[4],
             good[5]]
    redis_client().rpush(key(buffer), *items)
    visits_before = Visit.objects.count()

    stored = flush()

    left = redis_client().llen(key(buffer))
    set_aside = [json.loads(raw) for raw in redis_client().lrange(deadletter_key(buffer), 0, -1)]
    admin_page = console_client("administrator").get("/console/").content.decode()
    assert stored == 6 and Visit.objects.count() == visits_before + 6
    assert left == 0
    assert [entry["item"] for entry in set_aside] == [POISON[0], POISON[1], "\ufffd\ufffd\ufffd", POISON[3],
                                                      POISON[4]]
    assert selectors.dead_letters_summary()["items"] == {buffer: 5}
    assert '<strong>5</strong><span>dead letters</span>' in admin_page


def test_poison_messages_for_every_product_actor_are_dead_lettered_and_the_queue_goes_on(broker, worker):
    from shared.audit.tasks import visit_partitions_ensure

    product = product_actors(broker)
    queues = {actor.queue_name for actor in product}
    poisoned = []
    for actor in product:
        # Arguments no actor takes: what a message from an older release, or a corrupted one, looks like.
        message = actor.message_with_options(args=("poison",) * 7, kwargs={"poison": True}, max_retries=0)
        poisoned.append(broker.enqueue(message).message_id)
    visit_partitions_ensure.send()

    run(worker, queues)
    assert wait_for(lambda: selectors.dead_letters_summary()["total"] == len(product))

    letters = selectors.dead_letter_messages()
    assert sorted(letter.message_id for letter in letters) == sorted(poisoned)
    assert {letter.actor for letter in letters} == {actor.actor_name for actor in product}
    assert selectors.dead_letters_summary()["messages"] == {queue: sum(a.queue_name == queue for a in product)
                                                            for queue in queues}


def test_a_school_whose_requests_cannot_be_read_is_set_aside_and_the_others_are_flagged(broker, oakfield, riverside,
                                                                                       monkeypatch):
    from django.db import connection

    from orchestration import requests
    from orchestration.tasks import subject_requests_flag

    read = []
    real = requests.requests_due

    def broken_for_oakfield(**kwargs):
        if connection.schema_name == oakfield.school.schema_name:
            raise RuntimeError("this school's table is broken")
        read.append(connection.schema_name)
        return real(**kwargs)

    monkeypatch.setattr(requests, "requests_due", broken_for_oakfield)
    with capture_logs() as events:
        subject_requests_flag()

    set_aside = [json.loads(raw) for raw in redis_client().lrange(deadletter_key("subject_requests_flag"), 0, -1)]
    page = console_client("administrator").get("/console/technical/dead-letters/").content.decode()
    assert riverside.school.schema_name in read and oakfield.school.schema_name not in read
    assert [(entry["item"], entry["error"]) for entry in set_aside] == [(str(oakfield.school.pk), "RuntimeError")]
    assert [(e["job"], e["item_id"]) for e in events if e["event"] == "subject_requests_flag.item_set_aside"] == [
        ("subject_requests_flag", oakfield.school.pk)]
    assert selectors.dead_letters_summary()["items"] == {"subject_requests_flag": 1}
    assert f"#{oakfield.school.pk}" in page and "subject_requests_flag" in page


def test_every_item_by_item_job_is_registered():
    from shared.deadletter import each_surviving

    with pytest.raises(ValueError, match="unknown job"):
        each_surviving([1], lambda item: None, job="not-registered", item_id=str)
    assert JOBS == ("subject_requests_flag", "pupils_leavers_daily", "expired_sign_ins_and_exports_daily")
