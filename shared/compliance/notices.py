"""The privacy notice's published versions: publishing a new one (which every site then shows), and
the reads behind the notice's page, its footer link and the banner of changes since a browser's
last visit. Publishing validates first and records the new version in the change log; bad input
raises ValidationError and writes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from shared.changes import Action, Actor
from shared.compliance.models import NoticeVersion
from shared.compliance.versions import version_latest, version_publish
from shared.process_cache import ProcessCache

# The published versions' ids, names, dates and summaries, which every page's banner and footer
# read: kept in each process, invalidated by any write to a version (apps.py's signals).
NOTICE_VERSIONS = ProcessCache("notice-versions", ttl=60.0)
_STATUS_FIELDS = ("id", "version", "published_on", "summary")

CREATE = Action.CREATE


@transaction.atomic
def notice_version_publish(*, actor: Actor, version: str, text: str, summary: str,
                           published_on: dt.date | None = None) -> NoticeVersion:
    """Publish a new version of the privacy notice: from now on every site shows it, and a browser
    that saw an earlier version is shown this version's summary of changes."""
    return version_publish(NoticeVersion, actor=actor, version=version, text=text, summary=summary,
                           published_on=published_on, text_name="the notice's", shown_to="people",
                           from_posting="it shows from when it is posted")


def notice_versions() -> QuerySet[NoticeVersion]:
    """Every published version, newest first, without the full texts."""
    return NoticeVersion.objects.defer("text")


def notice_current() -> NoticeVersion | None:
    """The version every site shows: the latest published."""
    return version_latest(NoticeVersion)


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
    query without the texts, or none (NOTICE_VERSIONS). A browser that saw none (or an unknown one)
    has seen nothing, so it is shown every version's summary."""
    rows = NOTICE_VERSIONS.get("all", lambda: tuple(
        NoticeVersion.objects.order_by("-published_on", "-id").values_list(*_STATUS_FIELDS)))
    versions = [NoticeVersion.from_db("default", _STATUS_FIELDS, row) for row in rows]
    if not versions:
        return NoticeStatus(None, [])
    unseen = []
    for version in versions:
        if version.pk == seen_id:
            break
        unseen.append(version)
    return NoticeStatus(versions[0], unseen)
