"""The privacy notice's published versions: publishing a new one (which every site then shows), and
the reads behind the notice's page, its footer link and the banner of changes since a browser's
last visit. Publishing validates first and records the new version in the change log; bad input
raises ValidationError and writes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.compliance.models import NoticeVersion
from shared.dates import PLANNED

CREATE = Action.CREATE


@transaction.atomic
def notice_version_publish(*, actor: Actor, version: str, text: str, summary: str,
                           published_on: dt.date | None = None) -> NoticeVersion:
    """Publish a new version of the privacy notice: from now on every site shows it, and a browser
    that saw an earlier version is shown this version's summary of changes."""
    version, text, summary = version.strip(), text.strip(), summary.strip()
    published_on = published_on or clock.today()
    PLANNED.check(published_on, field="published_on")
    errors = {}
    if not version:
        errors["version"] = "Name the version."
    elif NoticeVersion.objects.filter(version__iexact=version).exists():
        errors["version"] = f"Version {version} exists already."
    if not text:
        errors["text"] = "Give the notice's full text."
    if not summary:
        errors["summary"] = "Summarise what changed: this is what people are shown."
    if errors:
        raise ValidationError(errors)
    current = NoticeVersion.objects.select_for_update().order_by("-published_on", "-id").first()
    if published_on > clock.today():
        raise ValidationError({"published_on": "Publish on today's date or earlier; it shows from when it is posted."})
    if current is not None and published_on < current.published_on:
        raise ValidationError({"published_on": f"Version {current.version} was published on "
                                               f"{current.published_on:%d %B %Y}: a new version cannot predate it."})
    if current is not None and current.text.strip() == text:
        raise ValidationError({"text": f"The text is the same as version {current.version}'s."})
    notice = NoticeVersion.objects.create(version=version, text=text, summary=summary, published_on=published_on,
                                          published_by_id=actor.user_id)
    change_log_record(actor=actor, instance=notice, action=CREATE,
                      fields=["version", "text", "summary", "published_on"])
    return notice


def notice_versions() -> QuerySet[NoticeVersion]:
    """Every published version, newest first, without the full texts."""
    return NoticeVersion.objects.defer("text")


def notice_current() -> NoticeVersion | None:
    """The version every site shows: the latest published."""
    return NoticeVersion.objects.order_by("-published_on", "-id").first()


def access_notice_version(version: str) -> NoticeVersion:
    return get_object_or_404(NoticeVersion, version=version)


@dataclass(frozen=True)
class NoticeStatus:
    """What a browser is shown: the current version, and the versions published since the one it
    last saw (newest first; empty when it has seen the current one)."""

    current: NoticeVersion | None
    unseen: list[NoticeVersion]


def notice_status(*, seen_id: int | None) -> NoticeStatus:
    """The current version and what a browser that last saw version ``seen_id`` has not seen. One
    query, without the texts. A browser that saw none (or an unknown one) has seen nothing, so it
    is shown every version's summary."""
    versions = list(NoticeVersion.objects.order_by("-published_on", "-id")
                    .only("id", "version", "published_on", "summary"))
    if not versions:
        return NoticeStatus(None, [])
    unseen = []
    for version in versions:
        if version.pk == seen_id:
            break
        unseen.append(version)
    return NoticeStatus(versions[0], unseen)
