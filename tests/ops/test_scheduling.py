"""Periodic actors fire once per period, also with two schedulers running."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dramatiq
import pytest
import redis
from django.conf import settings

from shared.scheduling import enqueue_once, period_key

QUEUE = f"test-sched-{uuid.uuid4().hex[:8]}"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dramatiq.actor(queue_name=QUEUE)
def tick() -> None:
    pass


@pytest.fixture
def queue():
    broker = dramatiq.get_broker()
    broker.flush(QUEUE)
    yield broker
    broker.flush(QUEUE)
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"{settings.DRAMATIQ_NAMESPACE}:periodic:tick:*"):
        client.delete(key)


def queued(broker) -> int:
    return broker.client.llen(f"{broker.namespace}:{QUEUE}")


def test_two_schedulers_firing_in_the_same_minute_enqueue_once(queue):
    fired = dt.datetime(2026, 11, 28, 9, 15, 0, 120_000, tzinfo=dt.timezone.utc)
    late = fired + dt.timedelta(seconds=20)

    first = enqueue_once("tick", fired)
    second = enqueue_once("tick", late)

    assert (first, second) == (True, False)
    assert queued(queue) == 1


def test_each_new_period_fires_again(queue):
    fired = dt.datetime(2026, 11, 28, 9, 15, tzinfo=dt.timezone.utc)

    results = [enqueue_once("tick", fired + dt.timedelta(minutes=n)) for n in range(3)]

    assert results == [True, True, True]
    assert queued(queue) == 3


def test_period_key_is_the_utc_minute():
    london = dt.datetime(2026, 7, 1, 10, 5, 59, tzinfo=dt.timezone(dt.timedelta(hours=1)))

    assert period_key("tick", london).endswith(":periodic:tick:20260701T0905Z")


def test_a_second_scheduler_process_waits_as_a_standby():
    """Two `manage.py crontab` processes: only one starts scheduling, the other waits for the lock."""
    env = {**os.environ, "DRAMATIQ_NAMESPACE": f"test-{uuid.uuid4().hex[:8]}"}
    command = [sys.executable, "manage.py", "crontab", "--no-heartbeat"]
    first = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(4)
    second = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(4)
    try:
        assert first.poll() is None and second.poll() is None
    finally:
        for process in (second, first):
            process.terminate()
        outputs = [p.communicate(timeout=20)[0] for p in (first, second)]

    assert "Starting scheduler" in outputs[0]
    assert "Acquiring lock" in outputs[1]
    assert "Starting scheduler" not in outputs[1]
