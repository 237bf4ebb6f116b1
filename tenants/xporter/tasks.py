"""Actors of the Xporter import. ``xporter_sync_school`` runs in the school's schema (the broker
middleware enters the schema the message was sent from); ``orchestration.tasks.xporter_sync_all``
sends it for every active school each night."""

from __future__ import annotations

import dramatiq
import structlog

from tenants.xporter import services
from tenants.xporter.client import XporterError
from tenants.xporter.parse import ImportRejected

log = structlog.get_logger(__name__)


@dramatiq.actor(max_retries=3, min_backoff=60_000, time_limit=30 * 60 * 1000)
def xporter_sync_school() -> None:
    try:
        services.xporter_sync()
    except services.ImportNotConfigured:
        log.info("xporter.skipped_not_configured")
    except ImportRejected:
        pass  # recorded as a failed ImportRun; retrying the same data fails the same way
    except XporterError:
        raise  # the service may be down: let dramatiq retry later
