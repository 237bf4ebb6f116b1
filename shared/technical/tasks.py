"""Actors of the technical-information app."""

from __future__ import annotations

import dramatiq

from ops.scheduling import periodic
from shared.technical import services


@periodic("* * * * *")
@dramatiq.actor(max_retries=5, time_limit=10 * 60 * 1000)
def visits_flush() -> None:
    """Move buffered visits into the partitioned visit log (every minute)."""
    services.visits_flush()


@periodic("15 3 * * *")
@dramatiq.actor(max_retries=5)
def visit_partitions_ensure() -> None:
    """Create the visit log's partitions for this month and the next two, ahead of need (daily)."""
    services.visit_partitions_ensure(months_ahead=2)
