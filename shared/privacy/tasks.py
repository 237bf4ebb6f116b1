"""The daily retention run."""

from __future__ import annotations

import dramatiq

from ops.scheduling import periodic
from shared import clock
from shared.privacy.executor import RetentionBusy, retention_run


@periodic("0 2 * * *")
@dramatiq.actor(max_retries=3, time_limit=6 * 3600 * 1000)
def retention_daily() -> None:
    """Apply the retention schedule as of today (02:00 UK time)."""
    try:
        retention_run(as_of=clock.today())
    except RetentionBusy:
        pass  # the run already in progress does today's work
