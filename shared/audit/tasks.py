"""Actors of the technical-information app. The visit log's flush is ``shared.clients.tasks.visits_flush``:
it also keeps contracts' last use."""

from __future__ import annotations

import dramatiq

from shared.audit import services
from shared.automation import automated
from shared.scheduling import periodic


@periodic("15 3 * * *")
@dramatiq.actor(max_retries=5)
@automated(title="Creating the visit log's monthly tables ahead of need", reads_school_data=False,
           reads_detail="Our visit log's tables (no school's data).")
def visit_partitions_ensure() -> None:
    """Create the visit log's partitions for this month and the next two, ahead of need (daily)."""
    services.visit_partitions_ensure(months_ahead=2)
