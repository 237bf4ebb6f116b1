"""A retention run killed with SIGKILL mid-way, then run again, ends as an uninterrupted run would:
every due unit deleted once, one deletion record each.

This test commits its data (the run happens in another process), so it cleans up after itself and
stands on a day (2018) on which only its own records are due."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from shared.marketing.models import Prospect
from shared.privacy.models import DeletionRecord, RetentionRun
from tests.helpers import committed

REPO_ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2018-06-01"
UNITS = 400
RUN = """
import datetime, sys, django
django.setup()
from django.db import connection
connection.settings_dict["NAME"] = sys.argv[1]
from orchestration.retention.run import retention_run
retention_run(as_of=datetime.date.fromisoformat(sys.argv[2]), scope="public")
"""


pytestmark = pytest.mark.django_db  # the test database; the committed rows go through their own connection

PROSPECTS, DELETIONS, RUNS = Prospect._meta.db_table, DeletionRecord._meta.db_table, RetentionRun._meta.db_table


def query(sql: str, params=()) -> list[tuple]:
    with committed() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def committed_prospects():
    with committed() as cursor:
        cursor.execute(f"INSERT INTO {PROSPECTS} (full_name, organisation, role, email, phone, notes, "
                       "last_interaction_at, created_at) SELECT 'Old Prospect ' || g, 'Gone School', '', '', '', '', "
                       "'2015-01-01T00:00:00Z', now() FROM generate_series(1, %s) g RETURNING id", [UNITS])
        ids = [row[0] for row in cursor.fetchall()]
    yield ids
    with committed() as cursor:
        cursor.execute(f"DELETE FROM {PROSPECTS} WHERE id = ANY(%s)", [ids])
        cursor.execute(f"DELETE FROM {DELETIONS} WHERE run_id IN (SELECT id FROM {RUNS} WHERE as_of = %s)", [AS_OF])
        cursor.execute(f"DELETE FROM {RUNS} WHERE as_of = %s", [AS_OF])


def run_in_process(database: str) -> subprocess.Popen:
    # This checkout's code, whichever checkout the virtualenv was installed from.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "LOG_LEVEL": "WARNING",
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "platform")])}
    return subprocess.Popen([sys.executable, "-c", RUN, database, AS_OF], cwd=REPO_ROOT, env=env)


def test_a_run_killed_with_sigkill_finishes_on_rerun_and_deletes_nothing_twice(committed_prospects):
    database = connection.settings_dict["NAME"]
    deletions_so_far = (f"SELECT count(*) FROM {DELETIONS} d JOIN {RUNS} r ON r.id = d.run_id "
                        "WHERE r.as_of = %s AND d.kind = 'prospect'")
    victim = run_in_process(database)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and query(deletions_so_far, [AS_OF])[0][0] == 0:
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    done_before_kill = query(deletions_so_far, [AS_OF])[0][0]

    for _ in range(5):  # until PostgreSQL has noticed the killed session and freed its lock
        rerun = run_in_process(database)
        if rerun.wait(timeout=120) == 0:
            break
        time.sleep(0.5)
    assert rerun.returncode == 0

    records = query(f"SELECT d.kind, d.unit, d.records_deleted FROM {DELETIONS} d JOIN {RUNS} r ON r.id = d.run_id "
                    "WHERE r.as_of = %s", [AS_OF])
    remaining = query(f"SELECT count(*) FROM {PROSPECTS} WHERE id = ANY(%s)", [committed_prospects])[0][0]

    assert victim.returncode == -signal.SIGKILL
    assert 0 < done_before_kill < UNITS, done_before_kill  # it really was killed mid-way
    assert remaining == 0
    assert sorted(records) == sorted(("prospect", f"prospect:{i}", 1) for i in committed_prospects)
