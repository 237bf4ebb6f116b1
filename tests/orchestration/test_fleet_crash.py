"""``migrate_fleet`` killed with SIGKILL mid-way (the command and its workers at once, as when the
machine goes), then run again: every school is wholly at the old state or wholly at the new one
after the crash, and every schema (schools, template, spares) is at the new state after the rerun.

The runs commit, and they migrate every schema of the database, so the scenario gets a database
of its own (made and dropped here, like a benchmark's): the session's seeded schools and pool are
never touched."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from ops.migration_probe import probe_write
from orchestration import pool
from tests.helpers import committed

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHOOLS = 30
SPARES = 3
# Slow enough per school (0.1 s) that the kill lands with some schools done and some not.
PROBE_SQL = "CREATE TABLE fleet_probe (id bigint); CREATE INDEX fleet_probe_surname ON pupils_pupil (surname); SELECT pg_sleep(0.1)"

SETUP = r"""
import os, sys, django
django.setup()
from django.db import connection
connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
from orchestration import pool
from orchestration import provisioning as services
services._pool_refill_later = lambda: None  # no job for the session's workers
pool.pool_top_up(size=int(sys.argv[2]))
for n in range(int(sys.argv[1])):
    services.school_provision(name=f"Crash School {n}", subdomain=f"crash{n}", admin_email=f"head@crash{n}.example")
pool.pool_top_up(size=int(sys.argv[2]))
"""
MIGRATE = r"""
import sys, django
django.setup()
from django.db import connection
connection.settings_dict["NAME"] = sys.argv[1]
from ops.migration_probe import MigrationProbe
MigrationProbe(folder=sys.argv[2], package=sys.argv[3], app_label="pupils", migration_name=sys.argv[4]).activate()
from django.core.management import call_command
call_command("migrate_fleet", processes=2)
"""

pytestmark = pytest.mark.django_db


def environment(**extra) -> dict:
    # This checkout's code, whichever checkout the virtualenv was installed from.
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "platform")]), **extra}


@pytest.fixture
def scratch_database():
    name = f"{connection.settings_dict['NAME']}_crash"
    done = subprocess.run([sys.executable, "-c", SETUP, str(SCHOOLS), str(SPARES)], cwd=REPO_ROOT,
                          env=environment(TEST_DATABASE_NAME=name), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    yield name
    with committed() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def probe():
    probe = probe_write(PROBE_SQL)
    probe.activate()
    try:
        fingerprint = pool.migration_fingerprint()
    finally:
        probe.deactivate()
    yield probe, fingerprint
    shutil.rmtree(probe.folder, ignore_errors=True)


def query(database: str, sql: str, params=()) -> list[tuple]:
    settings = connection.settings_dict
    own = psycopg2.connect(dbname=database, host=settings["HOST"], port=settings["PORT"] or None,
                           user=settings["USER"], password=settings["PASSWORD"])
    try:
        own.autocommit = True
        with own.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        own.close()


def schemas_state(database: str, migration_name: str) -> dict[str, tuple]:
    """For every school, template and spare: (recorded fingerprint, state, probe table there,
    probe migration recorded there)."""
    rows = query(database, "SELECT schema_name, migration_fingerprint, migration_state FROM schools_school")
    rows += query(database, "SELECT schema_name, fingerprint, 'spare' FROM schools_spareschema")
    rows += query(database, "SELECT nspname, obj_description(oid, 'pg_namespace'), 'template' FROM pg_namespace "
                            "WHERE nspname = %s", [pool.TEMPLATE_SCHEMA])
    state = {}
    for schema, fingerprint, migration_state in rows:
        table = query(database, "SELECT to_regclass(%s) IS NOT NULL", [f'"{schema}".fleet_probe'])[0][0]
        recorded = query(database, f'SELECT count(*) FROM "{schema}".django_migrations WHERE app = %s AND name = %s',
                         ["pupils", migration_name])[0][0]
        state[schema] = (fingerprint, migration_state, table, recorded == 1)
    return state


def migrate(database: str, probe, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", MIGRATE, database, probe.folder, probe.package, probe.migration_name],
                            cwd=REPO_ROOT, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **popen)


def test_a_fleet_migration_killed_mid_way_leaves_each_school_whole_and_a_rerun_brings_every_schema_current(
        scratch_database, probe):
    probe, new = probe
    old = pool.migration_fingerprint()
    migrated_so_far = "SELECT count(*) FROM schools_school WHERE migration_fingerprint = %s"

    victim = migrate(scratch_database, probe, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and query(scratch_database, migrated_so_far, [new])[0][0] < 3:
            time.sleep(0.02)
    finally:
        os.killpg(victim.pid, signal.SIGKILL)  # the command and its worker processes
        victim.communicate(timeout=30)
    after_crash = schemas_state(scratch_database, probe.migration_name)

    rerun = migrate(scratch_database, probe)
    out, err = rerun.communicate(timeout=300)
    after_rerun = schemas_state(scratch_database, probe.migration_name)

    assert victim.returncode == -signal.SIGKILL
    schools_after_crash = {s: v for s, v in after_crash.items() if v[1] not in ("spare", "template")}
    done = [s for s, (fingerprint, *_) in schools_after_crash.items() if fingerprint == new]
    assert len(schools_after_crash) == SCHOOLS and 3 <= len(done) < SCHOOLS, done  # really killed mid-way
    for schema, (fingerprint, _, table, recorded) in schools_after_crash.items():
        assert (fingerprint, table, recorded) in {(old, False, False), (new, True, True)}, schema  # whole, old or new

    assert rerun.returncode == 0, err[-3000:]
    assert f"{len(done)} already current (skipped), {SCHOOLS - len(done)} migrated, 0 failed, 0 not run" in out
    kinds = [v[1] for v in after_rerun.values()]
    assert (kinds.count("template"), kinds.count("spare"), kinds.count("ok")) == (1, SPARES, SCHOOLS)
    assert {v[0] for v in after_rerun.values()} == {new}
    assert all(table and recorded for _, _, table, recorded in after_rerun.values()), after_rerun
