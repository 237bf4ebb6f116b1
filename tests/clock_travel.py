"""``ops/test --on-day 2028-02-29``: runs the whole suite with the process's time moved to that day.

A test that reads the real date instead of ``shared.clock`` (or a date relative to it) passes on the
day it was written and fails later; moving the clock is how the suite proves it passes on any day.
Everything in this process moves together and keeps ticking (``time.time``, ``datetime.now``,
``timezone.now``, so ``shared.clock`` too, django-otp's codes and the test's own dates); threads of the
process (live servers) move with it, and so do processes a test starts (commands, servers: see
``tests/clock_travel_site``). The product never asks the database for the time (see
``tests/test_layout.py``), so PostgreSQL's own clock needs no moving.

A bare date stands for midday UTC of that day; a full ISO datetime (``2030-12-31T23:59:30+00:00``) for
itself. The environment variable ``PUPILTRACK_TEST_ON_DAY`` does the same as the option.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest

ENVIRONMENT_VARIABLE = "PUPILTRACK_TEST_ON_DAY"
CHILD_SITE = Path(__file__).with_name("clock_travel_site")


def pytest_addoption(parser):
    parser.addoption("--on-day", default=os.environ.get(ENVIRONMENT_VARIABLE, ""), metavar="DAY",
                     help="run with the process's clock moved to DAY (YYYY-MM-DD or an ISO datetime), ticking")


def travel_destination(text: str) -> dt.datetime:
    """``2028-02-29`` -> midday UTC that day; an ISO datetime as given (UTC when it names no zone)."""
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(12), tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise pytest.UsageError(f"--on-day wants YYYY-MM-DD or an ISO datetime, not {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def pytest_configure(config):
    text = config.getoption("--on-day")
    if not text:
        return
    import time_machine

    destination = travel_destination(text)
    shift = destination.timestamp() - time.time()
    traveller = time_machine.travel(destination, tick=True)
    traveller.start()
    config._clock_traveller = traveller
    # Processes the tests start inherit the environment: the same shift moves their clocks.
    os.environ["PUPILTRACK_TEST_CLOCK_SHIFT"] = repr(shift)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CHILD_SITE), os.environ.get("PYTHONPATH")]))


def pytest_report_header(config):
    text = config.getoption("--on-day")
    return f"clock moved to {travel_destination(text).isoformat()} (ticking)" if text else None


def pytest_unconfigure(config):
    traveller = getattr(config, "_clock_traveller", None)
    if traveller is not None:
        traveller.stop()
