"""Actors of the schools app."""

from __future__ import annotations

import dramatiq

from ops.scheduling import periodic
from shared.schools import pool


@periodic("*/5 * * * *")
@dramatiq.actor(max_retries=3, time_limit=30 * 60 * 1000)
def pool_top_up() -> None:
    """Keep the spare-schema pool full and current. Idempotent; also sent after each sign-up."""
    pool.pool_top_up()
