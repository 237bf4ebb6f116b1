"""What every buffer and batch job does with a bad item: clean what enters, and set aside what
still fails, so that one item never stops the rest.

A buffer is a Redis list of JSON items that a periodic job moves into PostgreSQL in batches (the
visit log is one). Three defences, one place:

- ``text_clean`` at the door: no NUL or other control character, no lone surrogate, a bounded
  length. PostgreSQL refuses NUL in text, so a single ``/%00`` request used to make every COPY
  of the batch holding it fail, for good.
- ``batch_land`` in the job: a batch that fails is split in halves, each half tried in its own
  savepoint, until the good items have landed and each bad one stands alone.
- ``buffer_take_done`` after the job's commit: the bad items go to the buffer's dead-letter list
  (``<buffer key>:deadletter``) and the batch leaves the buffer, in one Redis transaction, so a
  crash stores a batch twice at worst and never loses an item. Each set-aside item is logged
  (``<buffer>.item_set_aside``) and counted on the console's dashboard.

A job that works through items one by one (each school, say) uses ``each_surviving``: an item that
fails is set aside the same way (its id only) and the others are done.

The dead-letter list keeps the item as it was (it may hold an IP address, like the buffer), the
error's class and SQLSTATE, and when. Like the broker's dead-lettered messages it keeps an item
``DEADLETTER_MAX_AGE`` (7 days; ``deadletter_purge``, run by the buffer's job) and at most
``DEADLETTER_MAX_ITEMS``, the oldest dropped first.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import structlog
from django.db import transaction

from shared import clock
from shared.redis_client import key, redis_client

log = structlog.get_logger(__name__)

T = TypeVar("T")

DEADLETTER_MAX_ITEMS = 10_000
DEADLETTER_MAX_AGE = dt.timedelta(days=7)
# Every buffer the product keeps, by the name its key is made from (``key(name)``).
BUFFERS: tuple[str, ...] = ("visits",)
# Every job that works item by item through ``each_surviving``.
JOBS: tuple[str, ...] = ("subject_requests_flag", "pupils_leavers_daily", "expired_sign_ins_and_exports_daily")

# Control characters, and lone surrogates (from surrogateescape-decoded input: not encodable).
_UNWANTED = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_REPLACEMENT = "\ufffd"


def text_clean(value: object, *, limit: int) -> str:
    """``value`` as text that PostgreSQL and a log line accept: invalid UTF-8 and lone surrogates
    become U+FFFD, as does each control character (NUL included), and it is cut to ``limit``
    characters."""
    if isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
    else:
        text = str(value)
    return _UNWANTED.sub(_REPLACEMENT, text[: limit * 4])[:limit]


def batch_land(items: Sequence[T], land: Callable[[Sequence[T]], None], *,
               item_errors: tuple[type[BaseException], ...]) -> tuple[int, list[tuple[T, BaseException]]]:
    """Land ``items`` with ``land(batch)``, each attempt in its own savepoint. A batch that raises
    one of ``item_errors`` (errors an item's values cause) is split in halves and each half tried
    again, so the good items land and every item that fails on its own is returned with its error,
    the transaction still usable. Any other error (the database gone) propagates: the caller's
    transaction rolls back and the batch stays for the next run. Returns (landed, bad)."""
    if not items:
        return 0, []
    try:
        with transaction.atomic():
            land(items)
        return len(items), []
    except item_errors as error:
        if len(items) == 1:
            return 0, [(items[0], error)]
    middle = len(items) // 2
    landed_left, bad_left = batch_land(items[:middle], land, item_errors=item_errors)
    landed_right, bad_right = batch_land(items[middle:], land, item_errors=item_errors)
    return landed_left + landed_right, bad_left + bad_right


def buffer_key(buffer: str) -> str:
    return key(buffer)


def deadletter_key(buffer: str) -> str:
    return key(buffer, "deadletter")


def error_summary(error: BaseException) -> dict:
    """The class of an error and its SQLSTATE, never its text: a database error's text quotes the
    row it refused."""
    summary = {"error": type(error).__name__}
    pgcode = getattr(error, "pgcode", None) or getattr(getattr(error, "__cause__", None), "pgcode", None)
    if pgcode:
        summary["pgcode"] = pgcode
    return summary


def _entries(bad: Sequence[tuple[object, BaseException]]) -> list[str]:
    now = clock.now().isoformat()
    entries = []
    for item, error in bad:
        item = item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
        entries.append(json.dumps({"item": item, "set_aside_at": now, **error_summary(error)}))
    return entries


def _logged(name: str, bad: Sequence[tuple[object, BaseException]], **ids) -> None:
    for _, error in bad:
        log.warning(f"{name}.item_set_aside", **ids, **error_summary(error))


def buffer_take_done(*, buffer: str, taken: int, bad: Sequence[tuple[bytes | str, BaseException]]) -> None:
    """Drop the first ``taken`` items of ``buffer`` (done with: landed or bad) and put the bad ones
    on its dead-letter list, in one Redis transaction. Call it after the batch's commit."""
    pipe = redis_client().pipeline(transaction=True)
    if bad:
        pipe.rpush(deadletter_key(buffer), *_entries(bad))
        pipe.ltrim(deadletter_key(buffer), -DEADLETTER_MAX_ITEMS, -1)
    pipe.ltrim(buffer_key(buffer), taken, -1)
    pipe.execute()
    _logged(buffer, bad, buffer=buffer)


def each_surviving(items: Iterable[T], work: Callable[[T], None], *, job: str, item_id: Callable[[T], object],
                   item_errors: tuple[type[BaseException], ...] = (Exception,),
                   on_done: Callable[[T, dt.datetime, bool], None] | None = None) -> list[T]:
    """Run ``work(item)`` for every item, each in its own savepoint. An item that raises one of
    ``item_errors`` is set aside on the job's dead-letter list (its id and the error's class, with
    a ``<job>.item_set_aside`` event) and the rest go on. ``on_done(item, started_at, failed)``
    runs after each item's savepoint (``shared.automation.school_done`` records the run). Returns
    the items set aside."""
    if job not in JOBS:
        raise ValueError(f"unknown job {job!r}: add it to shared.deadletter.JOBS")
    deadletter_purge(job)
    bad = []
    for item in items:
        started_at, failed = clock.now(), False
        try:
            with transaction.atomic():
                work(item)
        except item_errors as error:
            bad.append((item, error))
            failed = True
        if on_done is not None:
            on_done(item, started_at, failed)
    if bad:
        pipe = redis_client().pipeline(transaction=True)
        pipe.rpush(deadletter_key(job), *_entries([(item_id(item), error) for item, error in bad]))
        pipe.ltrim(deadletter_key(job), -DEADLETTER_MAX_ITEMS, -1)
        pipe.execute()
        for item, error in bad:
            _logged(job, [(item, error)], job=job, item_id=item_id(item))
    return [item for item, _ in bad]


def deadletter_purge(buffer: str) -> int:
    """Drop the set-aside items of ``buffer`` older than ``DEADLETTER_MAX_AGE`` (they are in the
    order they were set aside). Returns how many it dropped."""
    client, name = redis_client(), deadletter_key(buffer)
    cutoff = clock.now() - DEADLETTER_MAX_AGE
    dropped = 0
    while (oldest := client.lindex(name, 0)) is not None:
        try:
            set_aside_at = dt.datetime.fromisoformat(json.loads(oldest)["set_aside_at"])
        except (ValueError, TypeError, KeyError):
            set_aside_at = None  # unreadable: no use to anyone
        if set_aside_at is not None and set_aside_at > cutoff:
            break
        client.lpop(name)
        dropped += 1
    if dropped:
        log.info(f"{buffer}.set_aside_purged", buffer=buffer, items=dropped)
    return dropped


def deadletter_count(buffer: str) -> int:
    return redis_client().llen(deadletter_key(buffer))


def deadletter_items(name: str, *, limit: int = 100) -> list[dict]:
    """The newest set-aside items of buffer or job ``name``, newest first: when, the error's class
    and SQLSTATE, and a job's item id; a buffer's item only by its size (it may hold personal
    data)."""
    rows = []
    for raw in reversed(redis_client().lrange(deadletter_key(name), -limit, -1)):
        try:
            entry = json.loads(raw)
        except ValueError:
            entry = {"item": raw.decode("utf-8", "replace"), "error": "unreadable"}
        try:
            set_aside_at = dt.datetime.fromisoformat(entry["set_aside_at"])
        except (KeyError, TypeError, ValueError):
            set_aside_at = None
        rows.append({"buffer": name, "set_aside_at": set_aside_at, "error": entry.get("error"),
                     "pgcode": entry.get("pgcode", ""), "size": len(entry.get("item") or ""),
                     "item_id": entry.get("item") if name in JOBS else None})
    return rows
