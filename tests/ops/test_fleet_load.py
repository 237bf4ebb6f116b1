"""The load test, small: five schools served by the product's gunicorn in another process, staff
browsing and parents signing in for a few seconds. No errors, no response carrying another
school's marker; connections reopened after their schools bound and worker processes replaced
after their request limit.

The schools are committed (the server is another process) on a thread of its own, and dropped
afterwards; the spare pool they were claimed from is filled again."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from ops.benchmarks import fleet_load
from orchestration import pool
from tests.conftest import SPARES_FOR_TESTS

pytestmark = pytest.mark.django_db


def in_thread(work):
    outcome = {}

    def target():
        try:
            outcome["value"] = work()
        except BaseException as error:
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=300)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.fixture
def load_schools(monkeypatch):
    # Provisioning asks the worker to refill the pool; no worker here: the fixture refills it.
    monkeypatch.setattr("orchestration.provisioning._pool_refill_later", lambda: None)
    schools = in_thread(lambda: fleet_load.schools_ensure(5, pupils=8, prefix="smoke"))
    yield schools
    in_thread(lambda: fleet_load.schools_drop(schools))
    in_thread(lambda: pool.pool_top_up(size=SPARES_FOR_TESTS))


def test_five_schools_under_load_get_only_their_own_pages(load_schools):
    with fleet_load.web_server(workers=2, threads=2, max_requests=20, conn_max_schools=2,
                               extra_env={"VISIT_LOG_ENABLED": "false"}) as server:
        sampler = fleet_load.Sampler(server, interval=0.1)
        sampler.start()
        try:
            stats = fleet_load.load_run(server.base_url, load_schools, seconds=4, users=4, parent_share=0.2)
        finally:
            sampler.stop()

    assert stats.error_count == 0, stats.error_examples
    assert stats.leaks == []
    assert stats.requests > 40
    # every step of a parent's sign-in and the commonest staff pages (the rarer ones may not come up in 4 s)
    assert set(fleet_load.PARENT_KINDS) | {"staff: pupil page", "staff: pupil list"} <= set(stats.latencies_ms)
    assert set(stats.latencies_ms) <= set(fleet_load.KINDS)
    assert stats.with_own_marker > stats.requests // 2  # the check sees each school's own marker
    slots = 2 * 2
    assert 0 < max(sampler.open_counts) <= 2 * slots
    assert len(sampler.backends) > max(sampler.open_counts)  # reopened after 2 schools each
    assert len(sampler.worker_pids) > 2  # gunicorn replaced workers after 20 requests
