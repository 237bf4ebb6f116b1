"""The registry of automated processes: every dramatiq actor declares, with ``@automated(...)``,
whether it reads school data and, if it does, its purpose, the data it reads and when it runs.

The privacy notice promises: "Automated processes may scan your data, but only for an explicit
purpose to do with the management of your system or delivery of other services directly to you."
So the purpose is one of those two (``Purpose``, in the notice's words) and each school admin sees
the list on the school's site (``portal.views.automated_processes``), with when each last ran for
their school. A system check (``shared.audit.checks``: automation.E001-E003) fails on a broker
actor without a declaration and on a declaration that reads school data without a purpose.

``@automated`` goes under ``@dramatiq.actor`` (so it wraps the function the worker calls) and over
nothing else::

    @periodic("15 0 * * *")
    @dramatiq.actor(max_retries=3)
    @automated(title="...", reads_school_data=True, purpose=Purpose.MANAGEMENT, ...)
    def pupils_leavers_daily(): ...

Last runs: the wrapper records one run (start, finish, outcome) when the actor finishes, for the
school whose schema it ran in, or for no school (shown to a school only for a process whose one
run covers every school: ``for_all_schools``). An actor that works through the schools itself
(``per_school=True``) records one run per school instead: ``recording(...)`` around one school's
work, or ``school_done(...)`` as ``shared.deadletter.each_surviving``'s ``on_done``. The store is
``shared.audit`` (the technical information), which installs itself as ``recorder`` when Django
starts: this core module imports no app.

The schedule comes from ``@periodic`` (``shared.scheduling.SCHEDULES``); an actor another one sends
names its sender (``sent_by``) and shares its schedule.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

import structlog
from django.db import connection

from shared import clock, scheduling

log = structlog.get_logger(__name__)

NOTICE_SENTENCE = ("Automated processes may scan your data, but only for an explicit purpose to do with the "
                   "management of your system or delivery of other services directly to you.")


class Purpose(StrEnum):
    """The purposes the notice allows an automated process to scan a school's data for (its words)."""

    MANAGEMENT = "the management of your system"
    SERVICES = "delivery of other services directly to you"

    @property
    def label(self) -> str:
        return self.value[0].upper() + self.value[1:]


class DataCategory(StrEnum):
    """The kinds of school data a process reads, in the notice's words ("Type of data", and its
    retention table for a cancelled school's files and database)."""

    PUPIL_DATA = "Pupil Data"
    USER_IDENTITY = "User Identity"
    CONFIGURATION_FILES = "client configuration files"
    CLIENT_DATABASE = "client database"


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Declaration:
    name: str  # the actor's name on the broker
    title: str  # plain English, for a school admin
    reads_school_data: bool
    purpose: Purpose | None = None
    why: str = ""  # what the purpose means for this process, in plain English
    reads: tuple[DataCategory, ...] = ()
    reads_detail: str = ""  # exactly which data, in plain English
    per_school: bool = False  # records one run per school itself
    for_all_schools: bool = False  # one run covers every school (its run for no school is each school's)
    sent_by: str | None = None  # the scheduled actor that sends this one
    also: str = ""  # when else it runs ("and when a school admin asks")
    own_crontab: str | None = None  # a library's actor, scheduled by the library itself

    @property
    def crontab(self) -> str | None:
        return (self.own_crontab or scheduling.SCHEDULES.get(self.name)
                or (scheduling.SCHEDULES.get(self.sent_by) if self.sent_by else None))

    @property
    def schedule(self) -> str:
        """When it runs, in words."""
        words = crontab_words(self.crontab) if self.crontab else "when another process or a person asks for it"
        return f"{words}, {self.also}" if self.also else words

    @property
    def reads_labels(self) -> str:
        return ", ".join(category[0].upper() + category[1:] for category in self.reads)


# Every declared process, by actor name.
DECLARATIONS: dict[str, Declaration] = {}

_DAYS = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
         "sat": "Saturday", "sun": "Sunday", "1": "Monday", "2": "Tuesday", "3": "Wednesday", "4": "Thursday",
         "5": "Friday", "6": "Saturday", "0": "Sunday", "7": "Sunday"}


def crontab_words(crontab: str) -> str:
    """A crontab in words (UK time), for the forms this product uses; any other is quoted as it is."""
    parts = crontab.split()
    if len(parts) != 5:
        return f"on the schedule “{crontab}”"
    minute, hour, day, month, weekday = parts
    if (day, month) != ("*", "*"):
        return f"on the schedule “{crontab}”"
    if weekday == "*" and hour == "*":
        if minute == "*":
            return "every minute"
        if minute.startswith("*/") and minute[2:].isdigit():
            return f"every {int(minute[2:])} minutes"
    if minute.isdigit() and hour.isdigit():
        at = f"{int(hour):02d}:{int(minute):02d}"
        if weekday == "*":
            return f"every day at {at}"
        days = weekday.lower().split("-")
        if len(days) == 2 and all(d in _DAYS for d in days):
            return f"at {at}, {_DAYS[days[0]]} to {_DAYS[days[1]]}"
        if weekday.lower() in _DAYS:
            return f"every {_DAYS[weekday.lower()]} at {at}"
    return f"on the schedule “{crontab}”"


def automated(*, title: str, reads_school_data: bool, purpose: Purpose | None = None, why: str = "",
              reads: tuple[DataCategory, ...] = (), reads_detail: str = "", per_school: bool = False,
              for_all_schools: bool = False, sent_by: str | None = None, also: str = "", name: str | None = None):
    """Declare the actor function below (see the module's docstring). ``name``: the actor's name,
    when ``@dramatiq.actor`` is given one other than the function's."""

    def decorator(fn):
        actor_name = name or fn.__name__
        DECLARATIONS[actor_name] = Declaration(
            name=actor_name, title=title, reads_school_data=reads_school_data, purpose=purpose, why=why,
            reads=tuple(reads), reads_detail=reads_detail, per_school=per_school, for_all_schools=for_all_schools,
            sent_by=sent_by, also=also)
        if per_school:
            return fn

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with recording(actor_name, schema_name=connection.schema_name):
                return fn(*args, **kwargs)

        return wrapper

    return decorator


def declare(name: str, *, title: str, reads_school_data: bool, crontab: str | None = None, **fields) -> None:
    """Declare an actor whose function is not ours to decorate (a library's). Its runs are not
    recorded."""
    DECLARATIONS[name] = Declaration(name=name, title=title, reads_school_data=reads_school_data,
                                     own_crontab=crontab, **fields)


# The libraries' actors that the worker loads (their apps are installed).
declare("heartbeat", title="The scheduler's heartbeat (dramatiq-crontab): a log line", reads_school_data=False,
        crontab="* * * * *", reads_detail="Nothing.")
declare("delete_old_tasks", title="django-dramatiq's clean-up of its task table (never sent by this product)",
        reads_school_data=False, reads_detail="django-dramatiq's own task table, which this product does not fill.")


# --- Last runs --------------------------------------------------------------------------------------

@dataclass
class Run:
    process: str
    started_at: dt.datetime
    outcome: Outcome = Outcome.SUCCEEDED


# ``recorder(process=, school_id=, schema_name=, started_at=, finished_at=, outcome=)``: installed
# by shared.audit when Django starts.
recorder: Callable[..., None] | None = None
_current: contextvars.ContextVar[Run | None] = contextvars.ContextVar("automated_run", default=None)


def outcome_set(outcome: Outcome) -> None:
    """Mark the run in progress (``recording``) as skipped or failed without raising: an actor that
    had nothing to do, or that recorded its own failure and returns."""
    run = _current.get()
    if run is not None:
        run.outcome = outcome


def _record(process: str, *, school_id: int | None, schema_name: str | None, started_at: dt.datetime,
            outcome: Outcome) -> None:
    if recorder is None:
        return
    try:
        recorder(process=process, school_id=school_id, schema_name=schema_name, started_at=started_at,
                 finished_at=clock.now(), outcome=outcome)
    except Exception as error:  # the record of a run never fails the run, nor hides its error
        log.warning("automation.run_not_recorded", process=process, school_id=school_id, error=type(error).__name__)


@contextmanager
def recording(process: str, *, school_id: int | None = None, schema_name: str | None = None) -> Iterator[Run]:
    """Record one run of ``process`` (for the school ``school_id`` or the school whose schema is
    ``schema_name``; neither, or ``public``: for no school) when the block ends: failed if it
    raised (the error goes on), else succeeded unless ``outcome_set`` said otherwise."""
    run = Run(process=process, started_at=clock.now())
    token = _current.set(run)
    try:
        yield run
    except BaseException:
        run.outcome = Outcome.FAILED
        raise
    finally:
        _current.reset(token)
        _record(process, school_id=school_id, schema_name=schema_name, started_at=run.started_at, outcome=run.outcome)


def school_done(process: str) -> Callable[[object, dt.datetime, bool], None]:
    """An ``on_done`` for ``shared.deadletter.each_surviving`` over schools (schema names or
    ``School`` objects): one run of ``process`` per school, after its savepoint."""

    def done(item, started_at: dt.datetime, failed: bool) -> None:
        schema_name, school_id = (item, None) if isinstance(item, str) else (None, item.pk)
        _record(process, school_id=school_id, schema_name=schema_name, started_at=started_at,
                outcome=Outcome.FAILED if failed else Outcome.SUCCEEDED)

    return done


def declarations() -> dict[str, Declaration]:
    """Every declaration, after importing every installed app's ``tasks`` module (as the worker
    does), so that none is missing in a process that never imported them."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("tasks")
    return DECLARATIONS


def school_processes() -> list[Declaration]:
    """The processes that read school data, in a stable order (by title)."""
    return sorted((d for d in declarations().values() if d.reads_school_data), key=lambda d: d.title)
