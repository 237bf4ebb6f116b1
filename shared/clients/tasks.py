"""Actors of the clients app."""

from __future__ import annotations

import dramatiq

from shared.clients import last_use, services
from shared.scheduling import periodic


@periodic("* * * * *")
@dramatiq.actor(max_retries=5, time_limit=10 * 60 * 1000)
def visits_flush() -> None:
    """Move buffered visits into the partitioned visit log and keep contracts' last use (every minute)."""
    last_use.visits_flush()


@periodic("5 0 * * *")
@dramatiq.actor(max_retries=5)
def schools_close_on_cancellation() -> None:
    """Close the sites of schools whose cancellation takes effect today (00:05)."""
    services.schools_close_on_cancellation()
