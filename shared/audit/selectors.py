"""Reads of technical information: an account's activity (its visits and the changes it made), and
what the workers gave up on.

Two kinds of dead letter, one view: the dramatiq messages the Redis broker dead-lettered (retries
exhausted, aborted or too old; kept in ``<namespace>:<queue>.XQ`` for the broker's
``dead_message_ttl``) and the buffer items a batch job set aside (``shared.deadletter``). Neither
shows a message's arguments or an item's values, which may hold personal data: ids, names of
actors, when, and the error's class.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dramatiq
from django.conf import settings
from django.db.models import Q
from django.utils.module_loading import autodiscover_modules

from shared.audit.models import AutomatedRun, ChangeLogEntry, Visit
from shared.deadletter import BUFFERS, JOBS, deadletter_count, deadletter_items

_VISIT_FIELDS = ["occurred_at", "host", "path", "method", "status", "ip", "user_id"]


def account_activity(*, schema_name: str, user_ids: list[int]) -> dict[str, list[dict]]:
    """The vendor's technical records of accounts in one schema (a school's, or ``public`` for the
    vendor's own accounts): their visits and the changes they made, as access exports show them."""
    if not user_ids:
        return {"technical.Visit": [], "technical.ChangeLogEntry": []}
    visits = (Visit.objects.filter(schema_name=schema_name, user_id__in=user_ids).order_by("occurred_at")
              .values_list(*_VISIT_FIELDS))
    changes = (ChangeLogEntry.objects.filter(actor_schema=schema_name, actor_id__in=user_ids).order_by("occurred_at")
               .values("occurred_at", "actor_id", "object_type", "object_id", "action", "fields"))
    return {"technical.Visit": [{k: _plain(v) for k, v in zip(_VISIT_FIELDS, row)} for row in visits],
            "technical.ChangeLogEntry": [{k: _plain(v) for k, v in row.items()} for row in changes]}


def _plain(value):
    return value.isoformat() if isinstance(value, dt.datetime) else value


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    actor: str
    message_id: str
    dead_lettered_at: dt.datetime
    retries: int
    error: str


def _broker_keys(queue: str) -> tuple[str, str]:
    namespace = dramatiq.get_broker().namespace
    return f"{namespace}:{queue}.XQ", f"{namespace}:{queue}.XQ.msgs"


def _queues() -> list[str]:
    # A web process declares only the actors it has imported: import every task module, as the
    # worker does, so that every queue is counted.
    autodiscover_modules(*settings.DRAMATIQ_AUTODISCOVER_MODULES)
    return sorted(dramatiq.get_broker().get_declared_queues())


def dead_letters_summary() -> dict:
    """How many dead letters there are: ``{"messages": {queue: n}, "items": {buffer: n}, "total": n}``,
    only queues and buffers that have some."""
    client = dramatiq.get_broker().client
    messages = {queue: client.zcard(_broker_keys(queue)[0]) for queue in _queues()}
    items = {name: deadletter_count(name) for name in BUFFERS + JOBS}
    messages = {queue: n for queue, n in messages.items() if n}
    items = {buffer: n for buffer, n in items.items() if n}
    return {"messages": messages, "items": items, "total": sum(messages.values()) + sum(items.values())}


def dead_letter_messages(*, limit: int = 100) -> list[DeadLetter]:
    """The newest dead-lettered messages of every queue, newest first. The error is the class the
    last retry recorded in the message's traceback, when it kept one (an actor without retries
    keeps none; the ``dramatiq.message_dead_lettered`` log event names it)."""
    client = dramatiq.get_broker().client
    found = []
    for queue in _queues():
        ids_key, messages_key = _broker_keys(queue)
        newest = client.zrevrange(ids_key, 0, limit - 1, withscores=True)
        if not newest:
            continue
        bodies = client.hmget(messages_key, [message_id for message_id, _ in newest])
        for (redis_id, score), body in zip(newest, bodies):
            # The set holds the broker's own id of the copy; the message's id is in its body.
            actor, message_id, retries, error = "?", redis_id.decode(), 0, ""
            if body is not None:
                try:
                    message = dramatiq.Message.decode(body)
                    actor, message_id = message.actor_name, message.message_id
                    retries = message.options.get("retries", 0)
                    error = _error_class(message.options.get("traceback", ""))
                except Exception:  # noqa: BLE001 - an undecodable message is still shown by id
                    actor = "undecodable"
            found.append(DeadLetter(queue=queue, actor=actor, message_id=message_id, retries=retries,
                                    error=error,
                                    dead_lettered_at=dt.datetime.fromtimestamp(score / 1000, tz=dt.timezone.utc)))
    found.sort(key=lambda letter: letter.dead_lettered_at, reverse=True)
    return found[:limit]


def _error_class(traceback_text: str) -> str:
    """``RuntimeError`` from a traceback's last line ``RuntimeError: text``: the class, not the
    text, which may quote data."""
    lines = [line for line in traceback_text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    return lines[-1].split(":", 1)[0].strip()[:100]


def set_aside_items(*, limit: int = 100) -> list[dict]:
    """The newest items each buffer and job set aside (``shared.deadletter.deadletter_items``)."""
    return [item for name in BUFFERS + JOBS for item in deadletter_items(name, limit=limit)]


@dataclass(frozen=True)
class ProcessForSchool:
    declaration: object  # shared.automation.Declaration
    run: AutomatedRun | None  # its last run for the school (for a process whose one run covers every
    # school, that run); never another school's


def automated_processes_for_school(*, school_id: int) -> list[ProcessForSchool]:
    """Every automated process that reads school data (``shared.automation``), with its last run
    for the school ``school_id`` (or, for a process whose one run covers every school, that run)."""
    return automated_processes_for_schools(school_ids=[school_id])[school_id]


def automated_processes_for_schools(*, school_ids: list[int]) -> dict[int, list[ProcessForSchool]]:
    """``automated_processes_for_school`` for each of ``school_ids``, in one query."""
    from shared import automation

    ids = list(school_ids)
    runs: dict[tuple[str, int | None], AutomatedRun] = {
        (run.process, run.school_id): run
        for run in AutomatedRun.objects.filter(Q(school_id__in=ids) | Q(school_id__isnull=True))}
    processes = automation.school_processes()
    return {school_id: [ProcessForSchool(d, runs.get((d.name, None)) if d.for_all_schools
                                         else runs.get((d.name, school_id)))
                        for d in processes]
            for school_id in ids}
