"""A dramatiq worker process is replaced after WORKER_MAX_MESSAGES messages: the product's worker
command (``manage.py rundramatiq``) runs in another process, on a Redis namespace of its own,
against the test database; its messages are ``visits_flush`` on an empty visit buffer."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dramatiq
import pytest
from django.conf import settings
from django.db import connection
from dramatiq.brokers.redis import RedisBroker

from shared.pg_tools import database_url
from tests.helpers import process_stop

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def children(pid: int) -> set[int]:
    try:
        return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()


def wait_for(predicate, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc to see the worker processes")
def test_worker_process_is_replaced_after_its_message_limit():
    namespace = f"pt-test-recycle-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DRAMATIQ_NAMESPACE": namespace,
           "DATABASE_URL": database_url(connection.settings_dict, application_name="pupiltrack-test-worker"),
           "WORKER_MAX_MESSAGES": "3", "WORKER_MAX_MESSAGES_JITTER": "0", "LOG_LEVEL": "WARNING",
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "platform"), str(REPO_ROOT)])}
    broker = RedisBroker(url=settings.REDIS_URL, namespace=namespace)
    broker.declare_queue("default")
    master = subprocess.Popen([sys.executable, "manage.py", "rundramatiq", "--processes", "1", "--threads", "1",
                               "--worker-shutdown-timeout", "5000"], cwd=REPO_ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        first = wait_for(lambda: children(master.pid), seconds=60, what="the worker process")
        for _ in range(3):
            broker.enqueue(dramatiq.Message(queue_name="default", actor_name="visits_flush", args=(), kwargs={},
                                            options={}))
        second = wait_for(lambda: children(master.pid) - first, seconds=60, what="a new worker process")
        broker.enqueue(dramatiq.Message(queue_name="default", actor_name="visits_flush", args=(), kwargs={}, options={}))
        wait_for(lambda: broker.client.llen(f"{namespace}:default") == 0, seconds=30, what="the queue to drain")

        assert master.poll() is None  # the pool was reloaded, not stopped
        assert first.isdisjoint(second) and len(second) == 1
    finally:
        process_stop(master, timeout=30)
        keys = list(broker.client.scan_iter(f"{namespace}*"))
        if keys:
            broker.client.delete(*keys)
        broker.close()
