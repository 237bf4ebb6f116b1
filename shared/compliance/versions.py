"""A document published in versions (the privacy notice, the Terms of Use): the checks every new
version passes and the write that records it, change-logged. Bad input raises ValidationError and
writes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import models

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.dates import PLANNED


def version_latest(model: type[models.Model]):
    """The version in force: the latest published (None before the first)."""
    return model.objects.order_by("-published_on", "-id").first()


def version_publish(model: type[models.Model], *, actor: Actor, version: str, text: str, summary: str,
                    published_on: dt.date | None, text_name: str, shown_to: str, from_posting: str,
                    text_problem: Callable[[str], str | None] = lambda text: None):
    """Check and write a new version of ``model``: a new name, a full text (and whatever
    ``text_problem`` says of it), a summary (what ``shown_to`` are shown), dated today or earlier and
    not before the version in force, and not the same text as it. Call inside a transaction."""
    version, text, summary = version.strip(), text.strip(), summary.strip()
    published_on = published_on or clock.today()
    PLANNED.check(published_on, field="published_on")
    errors = {}
    if not version:
        errors["version"] = "Name the version."
    elif model.objects.filter(version__iexact=version).exists():
        errors["version"] = f"Version {version} exists already."
    if not text:
        errors["text"] = f"Give {text_name} full text."
    elif problem := text_problem(text):
        errors["text"] = problem
    if not summary:
        errors["summary"] = f"Summarise what changed: this is what {shown_to} are shown."
    if errors:
        raise ValidationError(errors)
    current = model.objects.select_for_update().order_by("-published_on", "-id").first()
    if published_on > clock.today():
        raise ValidationError({"published_on": f"Publish on today's date or earlier; {from_posting}."})
    if current is not None and published_on < current.published_on:
        raise ValidationError({"published_on": f"Version {current.version} was published on "
                                               f"{current.published_on:%d %B %Y}: a new version cannot predate it."})
    if current is not None and current.text.strip() == text:
        raise ValidationError({"text": f"The text is the same as version {current.version}'s."})
    published = model.objects.create(version=version, text=text, summary=summary, published_on=published_on,
                                     published_by_id=actor.user_id)
    change_log_record(actor=actor, instance=published, action=Action.CREATE,
                      fields=["version", "text", "summary", "published_on"])
    return published
