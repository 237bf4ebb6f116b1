"""Periodic actors: ``@periodic("*/5 * * * *")`` on a dramatiq actor enqueues it on that crontab
schedule from the scheduler process (``manage.py crontab``, from dramatiq-crontab).

Two guards make each period fire once, also when two schedulers are started by mistake:
dramatiq-crontab's Redis lock keeps all but one scheduler waiting as standbys, and
``enqueue_once`` claims each (actor, minute) in Redis with SET NX before sending, which covers the
seconds in which a lock changes hands. Cron periods are whole minutes and the scheduler fires within
its 30-second grace time, so the minute of the firing names the period.
"""

from __future__ import annotations

import datetime as dt

import dramatiq
import structlog
from apscheduler.triggers.cron import CronTrigger
from django.utils import timezone
from dramatiq_crontab import scheduler

from shared import clock
from shared.redis_client import key, redis_client

log = structlog.get_logger(__name__)
_FIRED_KEY_TTL = 3 * 24 * 3600
# Every periodic actor's crontab, by actor name (``shared.automation`` shows it in words).
SCHEDULES: dict[str, str] = {}


def period_key(actor_name: str, fired_at: dt.datetime) -> str:
    minute = fired_at.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%MZ")
    return key("periodic", actor_name, minute)


def enqueue_once(actor_name: str, fired_at: dt.datetime | None = None) -> bool:
    """Send the actor unless this period's firing was already claimed. Returns whether it sent."""
    claim = period_key(actor_name, fired_at or clock.now())
    if not redis_client().set(claim, "1", nx=True, ex=_FIRED_KEY_TTL):
        log.info("scheduler.duplicate_skipped", periodic_actor=actor_name, period=claim.rsplit(":", 1)[-1])
        return False
    dramatiq.get_broker().get_actor(actor_name).send()
    log.info("scheduler.enqueued", periodic_actor=actor_name)
    return True


def periodic(crontab: str):
    """Register a dramatiq actor to be enqueued on a crontab schedule (UK time)."""

    def decorator(actor):
        SCHEDULES[actor.actor_name] = crontab
        scheduler.add_job(
            enqueue_once,
            CronTrigger.from_crontab(crontab, timezone=timezone.get_default_timezone()),
            args=[actor.actor_name],
            name=actor.actor_name,
            id=actor.actor_name,
            replace_existing=True,
            misfire_grace_time=30,
            coalesce=True,
        )
        return actor

    return decorator
