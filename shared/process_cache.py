"""Small, read-mostly lookups that every page makes (which school a host serves, the privacy
notice's versions, whether a school has accepted the Terms of Use, a school's branding), kept in
each web process so that a page does not ask the database for them each time.

Each ``ProcessCache`` has a *token* in Redis: a random value that ``invalidate()`` replaces, which
every process compares with the token its entries were read under. So a change made by any process
(a cancellation in the console, a fleet migration's maintenance flag, a notice published) is seen
by every other process at its next request: the promise that a cancelled school's site closes at
once holds. Tokens are random, not counters: a Redis that lost its keys cannot bring an old token
back. The rules:

- The token is read *before* the database, so a change committed while an entry is being read
  replaces the token the entry is stored under.
- ``invalidate()`` replaces the token at once and again when the transaction commits: at once, so
  that nothing the database holds before the commit is kept past it; at the commit, so that no
  process keeps the old rows it read in between (another process cannot see uncommitted rows).
- Without Redis (an error reading the token) nothing is cached: every lookup reads the database.
  Redis is asked with short timeouts and no retries, and after a failure not again for
  ``REDIS_PAUSE_SECONDS``: a Redis outage costs pages their cache, never seconds of waiting.
- Every entry also expires after ``ttl`` seconds, bounding what a change made outside the ORM (a
  restore, hand-written SQL) could leave behind.
- Entries are values (tuples, dicts of field values), never shared model instances: each caller
  gets its own copy to change.

A request reads all tokens at once (one MGET) when its first lookup is made, and keeps them for
the rest of the request (``request_scope``); outside a request each lookup reads its own token.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import secrets
import threading
import time
from typing import Any, Callable, Hashable, Iterator

import structlog
from django.db import transaction

from shared.redis_client import key

REDIS_TIMEOUT_SECONDS = 0.25
REDIS_PAUSE_SECONDS = 2.0
_redis_down_until = 0.0


@functools.cache
def _redis(url: str):
    """The caches' own client: fails fast (the process's shared client retries with back-off,
    which suits a worker, not a page)."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                retry=Retry(NoBackoff(), 0), retry_on_timeout=False)


def redis_client():
    from django.conf import settings

    global _redis_down_until
    if time.monotonic() < _redis_down_until:
        raise ConnectionError("Redis was unreachable moments ago")
    return _redis(settings.REDIS_URL)


def _redis_failed() -> bool:
    """Note a failure (Redis is left alone for a moment); True for the first of a run of them."""
    global _redis_down_until
    first = time.monotonic() >= _redis_down_until
    _redis_down_until = time.monotonic() + REDIS_PAUSE_SECONDS
    return first

log = structlog.get_logger("process_cache")

_REGISTRY: dict[str, "ProcessCache"] = {}
# The tokens of every cache, read once for the current request (None: outside a request, or not yet read).
_request_tokens: contextvars.ContextVar[dict[str, str | None] | None] = contextvars.ContextVar(
    "process_cache_tokens", default=None)
_in_request: contextvars.ContextVar[bool] = contextvars.ContextVar("process_cache_in_request", default=False)
_MISSING = object()


class ProcessCache:
    def __init__(self, name: str, *, ttl: float = 30.0, max_entries: int = 10_000):
        if name in _REGISTRY:
            raise ValueError(f"a process cache named {name!r} exists already")
        self.name = name
        self.ttl = ttl
        self.max_entries = max_entries
        self.redis_key = key("process-cache", name)
        self._entries: dict[Hashable, tuple[str, float, Any]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        _REGISTRY[name] = self

    def get(self, entry_key: Hashable, load: Callable[[], Any]) -> Any:
        """The value stored for ``entry_key``, or ``load()``'s (stored for later when it can be)."""
        token = self._token()
        if token is not None:
            entry = self._entries.get(entry_key)
            if entry is not None and entry[0] == token and entry[1] > time.monotonic():
                self.hits += 1
                return entry[2]
        self.misses += 1
        value = load()
        if token is not None:
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._entries[entry_key] = (token, time.monotonic() + self.ttl, value)
        return value

    def invalidate(self) -> None:
        """Something an entry was read from changed: every process reads it again."""
        self._renew()
        transaction.on_commit(self._renew, robust=True)

    def clear_local(self) -> None:
        with self._lock:
            self._entries.clear()

    def _renew(self) -> None:
        self.clear_local()
        tokens = _request_tokens.get()
        if tokens is not None:
            tokens.pop(self.name, None)  # read again by this request's next lookup
        try:
            redis_client().set(self.redis_key, secrets.token_hex(8))
        except Exception as error:  # noqa: BLE001 - reported; the entries expire within ttl
            _redis_failed()
            log.error("process_cache.invalidate_failed", cache=self.name, error=str(error))

    def _token(self) -> str | None:
        tokens = _request_tokens.get()
        if tokens is None and _in_request.get():
            tokens = _tokens_read(list(_REGISTRY.values()))
            _request_tokens.set(tokens)
        if tokens is not None and self.name in tokens:
            return tokens[self.name]
        token = _tokens_read([self]).get(self.name)
        if tokens is not None:
            tokens[self.name] = token
        return token


def _tokens_read(caches: list[ProcessCache]) -> dict[str, str | None]:
    """Each cache's token, made where Redis has none yet; all None when Redis cannot be read."""
    try:
        client = redis_client()
        values = client.mget([cache.redis_key for cache in caches])
        tokens = {}
        for cache, value in zip(caches, values):
            if value is None:
                client.set(cache.redis_key, secrets.token_hex(8), nx=True)
                value = client.get(cache.redis_key)
            tokens[cache.name] = value.decode() if value is not None else None
        return tokens
    except Exception as error:  # noqa: BLE001 - without Redis, nothing is cached
        if _redis_failed():
            log.warning("process_cache.token_unreadable", error=str(error))
        return {cache.name: None for cache in caches}


@contextlib.contextmanager
def request_scope() -> Iterator[None]:
    """Within it (a web request), the tokens are read once, at the first lookup."""
    in_request = _in_request.set(True)
    tokens = _request_tokens.set(None)
    try:
        yield
    finally:
        _request_tokens.reset(tokens)
        _in_request.reset(in_request)


def invalidate_all() -> None:
    """Every cache, in every process: after a write made outside the ORM (a restore's psql)."""
    for cache in list(_REGISTRY.values()):
        cache.invalidate()


def clear_all_local() -> None:
    """Forget every entry of this process, and any recent Redis failure (tests, between cases)."""
    global _redis_down_until
    _redis_down_until = 0.0
    for cache in _REGISTRY.values():
        cache.clear_local()


def caches() -> dict[str, ProcessCache]:
    return dict(_REGISTRY)
