"""The process's Redis client (a connection pool), for the product's own keys: the visit buffer and
the scheduler's once-per-period claims. dramatiq keeps its own connection."""

from __future__ import annotations

import functools

import redis
from django.conf import settings


@functools.cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def key(*parts: str) -> str:
    """A key in the product's namespace (DRAMATIQ_NAMESPACE), so test and bench runs stay apart."""
    return ":".join([settings.DRAMATIQ_NAMESPACE, *parts])
