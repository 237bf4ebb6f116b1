"""Actors of the clients app."""

from __future__ import annotations

import dramatiq

from shared.automation import automated
from shared.clients import last_use, services
from shared.scheduling import periodic


@periodic("* * * * *")
@dramatiq.actor(max_retries=5, time_limit=10 * 60 * 1000)
@automated(title="Writing recent visits to the visit log, and each school's last use of the service",
           reads_school_data=False,
           reads_detail="Our visit log (the technical information we hold as controller), not a school's data.")
def visits_flush() -> None:
    """Move buffered visits into the partitioned visit log and keep contracts' last use (every minute)."""
    last_use.visits_flush()


@periodic("5 0 * * *")
@dramatiq.actor(max_retries=5)
@automated(title="Closing the sites of schools whose cancellation takes effect today", reads_school_data=False,
           reads_detail="Our contracts with schools (not a school's data).")
def schools_close_on_cancellation() -> None:
    """Close the sites of schools whose cancellation takes effect today (00:05)."""
    services.schools_close_on_cancellation()
