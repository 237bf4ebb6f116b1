"""When each school last used the service, from the visit log.

A contract's "last used" date (which starts the clock on the vendor's records of a client that has
gone quiet) is kept from the visits themselves: the visit-log flush lands each batch of buffered
visits and, in the same transaction, brings forward the current contract of every school a
signed-in user visited. The visit log knows nothing of contracts; this is where the two meet."""

from __future__ import annotations

from shared.audit import services as visit_log
from shared.clients.services import contracts_last_used_bump


def visits_flush(*, batch_size: int = 5000) -> int:
    """Flush the buffered visits into the visit log and bring the schools' contracts' last-used
    dates forward from them. Returns how many visits it stored."""
    return visit_log.visits_flush(batch_size=batch_size, on_batch=contracts_last_used_bump)
