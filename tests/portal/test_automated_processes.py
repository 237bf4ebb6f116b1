"""The school's page of automated processes: every actor that enters the school's schema is on
it, with its last run for that school; another school's runs are not; only the school admin sees
it. "Enters the school's schema" is observed, not declared: every job the scheduler sends, and
every message those send, runs here as the worker would run it (in the schema its message
carries), while a spy on the connection notes each schema each actor entered."""

from __future__ import annotations

import datetime as dt
import html
from collections import defaultdict, deque

import dramatiq
import pytest
from django.db import connections
from django_tenants.utils import schema_context

from config.broker import SchoolSchemaMiddleware
from shared import clock, scheduling
from shared.audit.models import AutomatedRun
from shared.deadletter import JOBS, deadletter_key
from shared.redis_client import redis_client
from tests.portal.test_site import signed_in

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2027, 3, 1, 1, 0, tzinfo=dt.timezone.utc)


def product_actors() -> set[str]:
    """The broker's registered actors, less the suite's own probes."""
    return {name for name, actor in dramatiq.get_broker().actors.items()
            if not actor.fn.__module__.startswith("tests.")}


def run_everything(monkeypatch) -> dict[str, set[str]]:
    """Run every periodic job and every message it sends (then any actor not reached), each in its
    message's schema, inside this test's transaction. Returns the schemas each actor entered."""
    broker = dramatiq.get_broker()
    middleware = SchoolSchemaMiddleware()
    sent: deque = deque()

    def enqueue(message, *, delay=None):
        middleware.before_enqueue(broker, message, delay)
        sent.append(message)
        return message

    monkeypatch.setattr(broker, "enqueue", enqueue)
    entered: dict[str, set[str]] = defaultdict(set)
    running: list[str] = []
    wrapper = connections["default"]
    for method in ("set_schema", "set_tenant"):
        real = getattr(wrapper, method)

        def spy(*args, _real=real, **kwargs):
            _real(*args, **kwargs)
            if running:
                entered[running[-1]].add(wrapper.schema_name)

        monkeypatch.setattr(wrapper, method, spy)

    for name in scheduling.SCHEDULES:
        broker.get_actor(name).send()  # as the scheduler does, from public
    ran: set[str] = set()
    while sent:
        message = sent.popleft()
        running.append(message.actor_name)
        try:
            with schema_context(message.options["schema"]):
                entered[message.actor_name].add(message.options["schema"])
                broker.get_actor(message.actor_name).fn(*message.args, **message.kwargs)
        finally:
            running.pop()
        ran.add(message.actor_name)
        if not sent:
            for name in sorted(product_actors() - ran):
                broker.get_actor(name).send()  # what the schedule does not reach: run once from public
                ran.add(name)
                break
    assert product_actors() <= ran
    return entered


@pytest.fixture
def everything_ran(oakfield, riverside, monkeypatch, settings):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    settings.SCHOOL_POOL_SIZE = 0  # the pool is the suite's: no spare made or dropped here
    yield run_everything(monkeypatch)
    # Redis is not rolled back: leave no set-aside item behind for the jobs' own tests.
    redis_client().delete(*(deadletter_key(job) for job in JOBS))


def test_the_page_lists_every_actor_that_entered_the_school_with_its_last_run(everything_ran, oakfield, password):
    entering = {name for name, schemas in everything_ran.items() if oakfield.school.schema_name in schemas}
    assert {"retention_school", "pupils_leavers_daily", "xporter_sync_school",
            "expired_sign_ins_and_exports_daily", "subject_requests_flag"} <= entering

    response = signed_in(oakfield, oakfield.demo.head_email, password).get("/settings/automated-processes/")

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    for name in entering:
        row = page.split(f'<tr id="process-{name}">', 1)[1].split("</tr>", 1)[0]
        run = AutomatedRun.objects.get(process=name, school_id=oakfield.school.pk)
        assert run.started_at == NOW and run.finished_at == NOW
        assert "1 Mar 2027 01:00 to 01:00" in row, name  # UK time in March is GMT
        assert run.get_outcome_display() in row and "(one run for all schools)" not in row, name
    leavers = page.split('<tr id="process-pupils_leavers_daily">', 1)[1].split("</tr>", 1)[0]
    assert "Marking pupils whose leaving date has passed as leavers" in leavers
    assert "The management of your system." in leavers and "Every day at 00:15" in leavers
    assert "Pupil Data" in leavers


def test_a_process_that_never_entered_the_school_is_not_on_its_page(everything_ran, oakfield, password):
    page = signed_in(oakfield, oakfield.demo.head_email, password).get("/settings/automated-processes/").content.decode()

    for name in ("visits_flush", "pool_top_up", "retention_daily", "xporter_sync_all", "heartbeat"):
        assert oakfield.school.schema_name not in everything_ran.get(name, set()), name
        assert f'id="process-{name}"' not in page


def test_another_schools_runs_are_not_shown(oakfield, riverside, password, monkeypatch):
    from orchestration.tasks import retention_school

    monkeypatch.setattr(clock, "now", lambda: NOW)
    retention_school.fn(riverside.school.pk, NOW.date().isoformat())

    page = signed_in(oakfield, oakfield.demo.head_email, password).get("/settings/automated-processes/").content.decode()
    row = page.split('<tr id="process-retention_school">', 1)[1].split("</tr>", 1)[0]

    assert AutomatedRun.objects.filter(process="retention_school", school_id=riverside.school.pk).exists()
    assert "Not yet" in row and "1 Mar 2027" not in row
    riverside_page = signed_in(riverside, riverside.demo.head_email, password).get(
        "/settings/automated-processes/").content.decode()
    assert "1 Mar 2027 01:00" in riverside_page.split('<tr id="process-retention_school">', 1)[1].split("</tr>", 1)[0]


@pytest.mark.parametrize("who", ["teacher_email", "parent_email", "pupil_email"])
def test_only_the_school_admin_sees_the_page(oakfield, password, who):
    client = signed_in(oakfield, getattr(oakfield.demo, who), password)

    assert client.get("/settings/automated-processes/").status_code == 403


def test_the_settings_page_links_to_it(oakfield, password):
    response = signed_in(oakfield, oakfield.demo.head_email, password).get("/settings/")

    assert b'href="/settings/automated-processes/"' in response.content


def test_a_run_for_no_school_shows_only_for_a_process_whose_one_run_covers_every_school(oakfield, password):
    for process in ("retention_public", "xporter_sync_school"):  # the second: a message sent from public
        AutomatedRun.objects.create(process=process, school_id=None, started_at=NOW, finished_at=NOW,
                                    outcome=AutomatedRun.Outcome.FAILED)

    page = signed_in(oakfield, oakfield.demo.head_email, password).get("/settings/automated-processes/").content.decode()

    public = page.split('<tr id="process-retention_public">', 1)[1].split("</tr>", 1)[0]
    xporter = page.split('<tr id="process-xporter_sync_school">', 1)[1].split("</tr>", 1)[0]
    assert "1 Mar 2027 01:00 to 01:00 · Failed" in public and "(one run for all schools)" in public
    assert "Not yet" in xporter and "Failed" not in xporter
