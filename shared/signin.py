"""Sign-in throttling, one mechanism for the console and every school site.

Failed sign-ins (a wrong password, a wrong one-time code) are counted in the cache per account and
per client address, in windows of LOGIN_FAILURE_WINDOW. An account is a site's user: the site's
schema (``public`` for operators) and the normalised username, never the Host header, so spellings
of the host or the address share one counter. The address is the real client's, by the visit log's
trusted-proxy rule. Once a counter reaches its limit, sign-in on that site is refused without the
password being checked, until its window ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.db import connection
from django_ratelimit.core import get_usage

from shared.client_address import client_ip

log = structlog.get_logger(__name__)

# An address is shared by everyone behind one NAT (a school's whole network): it gets ten times an
# account's allowance before it is refused.
ADDRESS_FACTOR = 10


def normalise_username(username: str) -> str:
    """The one spelling of a username that counts: surrounding space dropped, case folded."""
    return (username or "").strip().casefold()


@dataclass(frozen=True)
class Refusal:
    """Sign-in is refused for ``retry_minutes`` more minutes (at least one)."""

    retry_minutes: int
    limit: str  # "account" or "address"


def _counters(request, username: str) -> list[tuple[str, str, int]]:
    schema = connection.schema_name
    allowed = settings.LOGIN_FAILURES_ALLOWED
    return [
        ("login-account", f"{schema}:{normalise_username(username)}", allowed),
        ("login-address", f"{schema}:{client_ip(request) or ''}", allowed * ADDRESS_FACTOR),
    ]


def _usage(request, username: str, *, increment: bool) -> Refusal | None:
    refusal = None
    for group, value, limit in _counters(request, username):
        usage = get_usage(request, group=group, key=lambda _group, _request, value=value: value,
                          rate=f"{limit}/{settings.LOGIN_FAILURE_WINDOW}", method="POST", increment=increment)
        if usage is not None and usage["count"] >= limit:
            minutes = max(1, math.ceil(usage["time_left"] / 60))
            if refusal is None or minutes > refusal.retry_minutes:
                refusal = Refusal(retry_minutes=minutes, limit=group.removeprefix("login-"))
    return refusal


def signin_refusal(request, *, username: str) -> Refusal | None:
    """Whether sign-in as ``username`` from this request's address is refused now on this site.
    Logs ``signin.throttled`` when it is. Call it before checking any password or code."""
    refusal = _usage(request, username, increment=False)
    if refusal is not None:
        log.warning("signin.throttled", limit=refusal.limit, retry_minutes=refusal.retry_minutes)
    return refusal


def signin_failure_count(request, *, username: str) -> None:
    """Count one failed sign-in (wrong password or wrong code) against the account and the address."""
    if _usage(request, username, increment=True) is not None:
        log.info("signin.limit_reached")


def password_reset_refusal(request, *, email: str) -> Refusal | None:
    """Count one "Forgot password?" request for ``email`` on this site and from this request's
    address, and say whether it is refused (past PASSWORD_RESETS_ALLOWED in the window). Every
    request counts, whether or not the address has an account, so the limit tells nobody which do."""
    schema = connection.schema_name
    allowed = settings.PASSWORD_RESETS_ALLOWED
    refusal = None
    for group, value, limit in (("reset-account", f"{schema}:{normalise_username(email)}", allowed),
                                ("reset-address", f"{schema}:{client_ip(request) or ''}", allowed * ADDRESS_FACTOR)):
        usage = get_usage(request, group=group, key=lambda _group, _request, value=value: value,
                          rate=f"{limit}/{settings.LOGIN_FAILURE_WINDOW}", method="POST", increment=True)
        if usage is not None and usage["count"] > limit:
            minutes = max(1, math.ceil(usage["time_left"] / 60))
            if refusal is None or minutes > refusal.retry_minutes:
                refusal = Refusal(retry_minutes=minutes, limit=group.removeprefix("reset-"))
    if refusal is not None:
        log.warning("password_reset.throttled", limit=refusal.limit, retry_minutes=refusal.retry_minutes)
    return refusal
