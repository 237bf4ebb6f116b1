"""The registry of automated processes (``shared.automation``): every broker actor is declared,
one that reads school data names a purpose in the notice's words, the system check fails
otherwise, schedules come from ``@periodic`` and read as words, and each run's last start, finish
and outcome is kept once per process and school."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from pathlib import Path

import dramatiq
import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django_tenants.utils import schema_context

from shared import automation, clock, scheduling
from shared.audit import checks
from shared.audit.models import AutomatedRun
from shared.automation import Outcome, Purpose

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTICE = REPO_ROOT / "shared" / "compliance" / "notice" / "privacy-notice-v1.txt"
NOW = dt.datetime(2027, 3, 1, 2, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def throwaway():
    """An actor declared on the broker with no declaration, taken off the broker afterwards."""
    broker = dramatiq.get_broker()
    name = f"throwaway_{uuid.uuid4().hex[:8]}"

    def fn() -> None:
        pass

    actor = dramatiq.actor(fn, actor_name=name)
    yield actor
    broker.actors.pop(name, None)
    assert name not in broker.get_declared_actors()


@pytest.fixture
def pinned(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def test_the_codebase_passes_the_automation_check():
    assert checks.automated_processes_check() == []
    call_command("check", "--fail-level", "ERROR")


def test_every_actor_of_the_product_is_declared():
    product = {name for name, actor in dramatiq.get_broker().actors.items() if not actor.fn.__module__.startswith("tests.")}

    assert product <= set(automation.declarations())
    assert {"retention_school", "xporter_sync_school", "pupils_leavers_daily"} <= product


def test_an_actor_on_the_broker_without_a_declaration_fails_the_check(throwaway, settings):
    settings.AUTOMATION_CHECK_EXEMPT_MODULES = ()  # production's: no actor is exempt

    errors = [e for e in checks.automated_processes_check() if e.obj == throwaway.actor_name]

    assert [(e.id, e.msg) for e in errors] == [
        ("automation.E001", f"the actor {throwaway.actor_name} is not a declared automated process")]
    with pytest.raises(SystemCheckError, match=throwaway.actor_name):
        call_command("check", "--fail-level", "ERROR")


def test_a_declared_throwaway_actor_passes_and_its_removal_leaves_the_check_clean(throwaway, settings, monkeypatch):
    settings.AUTOMATION_CHECK_EXEMPT_MODULES = ()
    monkeypatch.setitem(automation.DECLARATIONS, throwaway.actor_name, automation.Declaration(
        name=throwaway.actor_name, title="A throwaway", reads_school_data=False))

    assert [e for e in checks.automated_processes_check() if e.obj == throwaway.actor_name] == []


def test_a_declaration_that_reads_school_data_without_a_purpose_fails_the_check(monkeypatch):
    declared = automation.DECLARATIONS["pupils_leavers_daily"]
    monkeypatch.setitem(automation.DECLARATIONS, "pupils_leavers_daily", dataclasses.replace(declared, purpose=None))

    errors = checks.automated_processes_check()

    assert [(e.id, e.msg) for e in errors] == [
        ("automation.E002", "the automated process pupils_leavers_daily reads school data but names no purpose")]


def test_a_declaration_that_reads_school_data_without_naming_the_data_fails_the_check(monkeypatch):
    declared = automation.DECLARATIONS["retention_school"]
    monkeypatch.setitem(automation.DECLARATIONS, "retention_school", dataclasses.replace(declared, reads=()))

    assert [e.id for e in checks.automated_processes_check()] == ["automation.E002"]


def test_a_declaration_naming_no_actor_fails_the_check(monkeypatch):
    monkeypatch.setitem(automation.DECLARATIONS, "gone_actor", automation.Declaration(
        name="gone_actor", title="Gone", reads_school_data=False))

    assert [(e.id, e.obj) for e in checks.automated_processes_check()] == [("automation.E003", "gone_actor")]


def test_the_purposes_are_the_notices_words():
    notice = re.sub(r"\s+", " ", NOTICE.read_text(encoding="utf-8"))

    assert automation.NOTICE_SENTENCE in notice
    for purpose in Purpose:
        assert purpose.value in automation.NOTICE_SENTENCE
    for category in automation.DataCategory:
        assert category.value.lower() in notice.lower()


def test_every_process_that_reads_school_data_has_a_purpose_and_data():
    for declaration in automation.school_processes():
        assert declaration.purpose in Purpose and declaration.reads and declaration.why, declaration.name


@pytest.mark.parametrize(("crontab", "words"), [
    ("* * * * *", "every minute"),
    ("*/5 * * * *", "every 5 minutes"),
    ("5 0 * * *", "every day at 00:05"),
    ("0 8 * * Mon-Fri", "at 08:00, Monday to Friday"),
    ("0 9 * * sun", "every Sunday at 09:00"),
    ("0 9 1 * *", "on the schedule “0 9 1 * *”"),
    ("rubbish", "on the schedule “rubbish”"),
])
def test_a_crontab_reads_as_words(crontab, words):
    assert automation.crontab_words(crontab) == words


def test_the_schedule_is_read_from_periodic_and_a_sent_actor_shares_its_senders():
    declarations = automation.declarations()

    assert scheduling.SCHEDULES["pupils_leavers_daily"] == "15 0 * * *"
    assert declarations["pupils_leavers_daily"].schedule == "every day at 00:15"
    assert declarations["retention_school"].crontab == scheduling.SCHEDULES["retention_daily"]
    assert declarations["subject_requests_flag"].schedule == "at 08:00, Monday to Friday"
    assert declarations["xporter_sync_school"].schedule == "every day at 01:30, and when a school admin asks for an import"


@pytest.mark.django_db
def test_a_run_is_kept_once_per_process_and_school_and_overwritten(oakfield, monkeypatch):
    times = iter([NOW, NOW + dt.timedelta(seconds=5), NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=1, seconds=9)])
    monkeypatch.setattr(clock, "now", lambda: next(times))

    with automation.recording("retention_school", school_id=oakfield.school.pk):
        pass
    with pytest.raises(RuntimeError), automation.recording("retention_school", school_id=oakfield.school.pk):
        raise RuntimeError("failed on purpose")

    [run] = AutomatedRun.objects.filter(process="retention_school")
    assert (run.school_id, run.started_at, run.finished_at, run.outcome) == (
        oakfield.school.pk, NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=1, seconds=9), Outcome.FAILED)


@pytest.mark.django_db
def test_a_run_for_no_school_is_one_row_too(pinned):
    for _ in range(3):
        with automation.recording("visits_flush"):
            pass

    assert list(AutomatedRun.objects.filter(process="visits_flush").values_list("school_id", "outcome")) == [
        (None, "succeeded")]


@pytest.mark.django_db
def test_the_decorated_actor_records_the_school_whose_schema_it_ran_in(oakfield, riverside, pinned):
    from tenants.xporter.tasks import xporter_sync_school

    with schema_context(oakfield.school.schema_name):
        xporter_sync_school.fn()  # the demo's Xporter connection is switched off: nothing to do

    # (a worker in another test may have committed runs for no school: only the schools' runs are compared)
    assert list(AutomatedRun.objects.filter(process="xporter_sync_school", school_id__isnull=False)
                .values_list("school_id", "outcome")) == [(oakfield.school.pk, "skipped")]


# Declared at import, as the product's actors are, before any test starts a worker: a worker that
# listens to every queue adds a consumer for each queue declared later, also once stopped.
PROBE_QUEUE = f"test-automation-{uuid.uuid4().hex[:8]}"


@dramatiq.actor(queue_name=PROBE_QUEUE, max_retries=0)
@automation.automated(title="A probe of the suite", reads_school_data=False)
def automation_probe() -> None:
    pass


@pytest.fixture
def probe_on_a_worker():
    """A real worker on the probe's queue; the runs it commits are removed afterwards."""
    from tests.helpers import committed

    broker = dramatiq.get_broker()
    broker.flush(PROBE_QUEUE)
    worker = dramatiq.Worker(broker, queues={PROBE_QUEUE}, worker_threads=1, worker_timeout=100)
    worker.start()

    def run() -> None:
        automation_probe.send()
        broker.join(PROBE_QUEUE, timeout=20_000)
        worker.join()

    yield "automation_probe", run
    worker.stop()
    broker.flush(PROBE_QUEUE)
    with committed() as cursor:
        cursor.execute("DELETE FROM technical_automatedrun WHERE process = %s", ["automation_probe"])


@pytest.mark.django_db
def test_a_run_on_the_worker_is_recorded_for_the_school_it_was_sent_from_or_for_none(probe_on_a_worker, oakfield):
    name, run = probe_on_a_worker

    with schema_context(oakfield.school.schema_name):
        run()
    first = AutomatedRun.objects.get(process=name)
    run()  # from public: a run for no school

    runs = {r.school_id: r for r in AutomatedRun.objects.filter(process=name)}
    assert sorted(runs, key=str) == sorted([oakfield.school.pk, None], key=str)
    assert (first.school_id, first.outcome) == (oakfield.school.pk, "succeeded")
    assert runs[None].outcome == "succeeded" and runs[None].finished_at >= runs[None].started_at
