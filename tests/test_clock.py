"""The suite passes on any day: the product reads the time only through ``shared.clock``, never asks the
database for it, and ``--on-day`` moves this process and the processes it starts."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from tests.clock_travel import travel_destination

REPO_ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ["platform", "shared", "tenants", "ops"]
# The stand-in for Groupcall's server keeps that server's own clock, as the real one would.
OUTSIDE_SYSTEMS = {Path("ops/xporter_fake.py")}
WALL_CLOCK = re.compile(r"\b(timezone\.now|datetime\.now|datetime\.utcnow|date\.today|time\.time)\(")
DATABASE_CLOCK = re.compile(r"\b(now\(\)|current_date|current_timestamp|localtimestamp|clock_timestamp\(\)"
                            r"|statement_timestamp\(\)|transaction_timestamp\(\))", re.IGNORECASE)


def product_sources():
    for top in PRODUCT:
        for path in sorted((REPO_ROOT / top).rglob("*.py")):
            relative = path.relative_to(REPO_ROOT)
            if "migrations" not in relative.parts and relative not in OUTSIDE_SYSTEMS:
                yield relative, path.read_text()


def test_the_product_reads_the_time_only_through_shared_clock():
    readers = [f"{relative}: {match.group(0)}" for relative, text in product_sources()
               if relative != Path("shared/clock.py") for match in WALL_CLOCK.finditer(text)]
    assert readers == []


def string_literals(text: str):
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.STRING:
            yield token.string


def test_the_product_never_asks_the_database_for_the_time():
    # In SQL (string literals) and through Django's database functions (Now()). Benchmarks may fill
    # tables with SQL dates of their own; the product's code may not.
    askers = [f"{relative}: {match.group(0)}" for relative, text in product_sources()
              if relative.parts[:2] != ("ops", "benchmarks")
              for literal in string_literals(text) for match in DATABASE_CLOCK.finditer(literal)]
    askers += [f"{relative}: Now()" for relative, text in product_sources() if re.search(r"\bNow\(\)", text)]
    assert askers == []


@pytest.mark.parametrize(("text", "moment"), [
    ("2028-02-29", dt.datetime(2028, 2, 29, 12, tzinfo=dt.UTC)),
    ("2030-12-31T23:59:30", dt.datetime(2030, 12, 31, 23, 59, 30, tzinfo=dt.UTC)),
    ("2027-04-05T23:30:00+01:00", dt.datetime(2027, 4, 5, 22, 30, tzinfo=dt.UTC)),
])
def test_on_day_names_a_day_or_a_moment(text, moment):
    assert travel_destination(text) == moment


PROBE = '''
import datetime as dt, subprocess, sys

def test_this_process_and_its_children_stand_on_the_moved_day():
    assert dt.date.today() == dt.date(2030, 12, 31)
    child = subprocess.run([sys.executable, "-c", "import datetime; print(datetime.date.today())"],
                           capture_output=True, text=True, check=True)
    assert child.stdout.strip() == "2030-12-31"
'''


def test_on_day_moves_the_test_process_and_the_processes_it_starts(tmp_path):
    (tmp_path / "test_probe.py").write_text(PROBE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("PUPILTRACK_TEST_ON_DAY", None)
    env.pop("PUPILTRACK_TEST_CLOCK_SHIFT", None)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:django",
                           "-c", str(tmp_path / "pytest.ini"), "-p", "tests.clock_travel",
                           "--on-day", "2030-12-31", str(tmp_path / "test_probe.py")],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
