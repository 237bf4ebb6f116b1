"""Actors of the Xporter import. ``xporter_sync_school`` runs in the school's schema (the broker
middleware enters the schema the message was sent from); ``orchestration.tasks.xporter_sync_all``
sends it for every active school each night."""

from __future__ import annotations

import dramatiq
import structlog

from shared import automation
from shared.automation import DataCategory as D
from shared.automation import Purpose, automated
from tenants.xporter import services
from tenants.xporter.client import XporterError
from tenants.xporter.parse import ImportRejected

log = structlog.get_logger(__name__)


@dramatiq.actor(max_retries=3, min_backoff=60_000, time_limit=30 * 60 * 1000)
@automated(title="Importing your pupils, groups and results from your MIS through Xporter",
           reads_school_data=True, purpose=Purpose.SERVICES,
           why="The Xporter import you set up: keeps the tracking data in step with your MIS.",
           reads=(D.PUPIL_DATA,),
           reads_detail="What Xporter sends (pupils, contacts, groups, assessment results) and the records it "
                        "updates; only when you have switched the import on. Pupils and parents whose processing "
                        "is restricted or objected to are left as they are.",
           sent_by="xporter_sync_all", also="and when a school admin asks for an import")
def xporter_sync_school() -> None:
    try:
        services.xporter_sync()
    except services.ImportNotConfigured:
        log.info("xporter.skipped_not_configured")
        automation.outcome_set(automation.Outcome.SKIPPED)
    except ImportRejected:
        # recorded as a failed ImportRun; retrying the same data fails the same way
        automation.outcome_set(automation.Outcome.FAILED)
    except XporterError:
        raise  # the service may be down: let dramatiq retry later
