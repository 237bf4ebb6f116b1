"""Writes on legal holds and retention shortenings, change-logged with the operator as actor."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.dates import PLANNED
from shared.privacy.models import LegalHold, RetentionShortening
from shared.privacy.retention.registry import Category
from shared.schools.models import School

CATEGORIES = frozenset(c.value for c in Category)


@transaction.atomic
def legal_hold_place(*, actor: Actor, reason: str, owner: str, starts_on: dt.date, ends_on: dt.date | None = None,
                     school: School | None = None, person: str = "", category: str = "") -> LegalHold:
    """Place a hold: from ``starts_on`` nothing it covers is deleted, by any path, until it ends."""
    if not (school or person.strip() or category):
        raise ValidationError("A hold must name a client, a person or a category.")
    if category and category not in CATEGORIES:
        raise ValidationError({"category": "Unknown category."})
    PLANNED.check(starts_on, field="starts_on")
    PLANNED.check(ends_on, field="ends_on")
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": "A hold cannot end before it starts."})
    if not reason.strip() or not owner.strip():
        raise ValidationError("A hold needs a reason and an owner.")
    hold = LegalHold.objects.create(reason=reason.strip(), owner=owner.strip(), starts_on=starts_on, ends_on=ends_on,
                                    school=school, person=person.strip(), category=category)
    change_log_record(actor=actor, instance=hold, action=Action.CREATE,
                      fields=[f for f in ("reason", "owner", "starts_on", "ends_on", "school", "person", "category")
                              if getattr(hold, f) not in (None, "")])
    return hold


@transaction.atomic
def legal_hold_lift(*, actor: Actor, hold: LegalHold, on: dt.date | None = None) -> LegalHold:
    """End a hold (today by default). What it kept is deleted by the next run if past due."""
    on = on or clock.today()
    hold.ends_on = max(hold.starts_on, on - dt.timedelta(days=1))
    hold.save(update_fields=["ends_on"])
    change_log_record(actor=actor, instance=hold, action=Action.UPDATE, fields=["ends_on"])
    return hold


@transaction.atomic
def retention_shorten(*, actor: Actor, school: School, category: str, months: int, reason: str) -> RetentionShortening:
    if category not in CATEGORIES or not reason.strip() or months < 0:
        raise ValidationError("Give a category, a number of months and the reason.")
    shortening = RetentionShortening.objects.create(school=school, category=category, months=months, reason=reason.strip())
    change_log_record(actor=actor, instance=shortening, action=Action.CREATE,
                      fields=["school", "category", "months", "reason"])
    return shortening
