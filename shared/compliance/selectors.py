"""Reads on the breach and disclosure registers and the privacy notice's versions. Every lookup by
an id from a request goes through an ``access_*`` helper, which raises Http404 for an unknown id."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from shared import clock
from shared.compliance.clocks import ICO_REPORT_WINDOW, NEAR_DUE, ReportClock, report_clock
from shared.compliance.models import Breach, Disclosure, NoticeVersion


def breach_clock(breach: Breach, *, as_of: dt.datetime | None = None) -> ReportClock:
    return report_clock(aware_at=breach.aware_at, decision=breach.ico_decision, reported_at=breach.ico_reported_at,
                        as_of=as_of or clock.now())


def breach_list(*, status: str = "open") -> QuerySet[Breach]:
    """Breaches, newest awareness first; ``status`` is "open", "closed" or "" (all)."""
    queryset = Breach.objects.prefetch_related("schools")
    if status == "open":
        queryset = queryset.filter(closed_at__isnull=True)
    elif status == "closed":
        queryset = queryset.filter(closed_at__isnull=False)
    return queryset


def access_breach(breach_id: int) -> Breach:
    return get_object_or_404(Breach.objects.prefetch_related("schools", "notifications__school"), pk=breach_id)


@dataclass(frozen=True)
class BreachDue:
    breach: Breach
    clock: ReportClock


def breaches_due(*, as_of: dt.datetime | None = None, within: dt.timedelta = NEAR_DUE) -> list[BreachDue]:
    """Open breaches whose ICO report is overdue or due within ``within`` (and not decided against),
    most urgent first: the dashboard's list."""
    as_of = as_of or clock.now()
    candidates = (Breach.objects.filter(closed_at__isnull=True, ico_reported_at__isnull=True,
                                        aware_at__lt=as_of - ICO_REPORT_WINDOW + within)
                  .exclude(ico_decision=Breach.Decision.NOT_REPORT).order_by("aware_at", "id"))
    return [BreachDue(breach, breach_clock(breach, as_of=as_of)) for breach in candidates]


def disclosure_list(*, ground: str = "") -> QuerySet[Disclosure]:
    queryset = Disclosure.objects.prefetch_related("schools")
    return queryset.filter(ground=ground) if ground else queryset


def access_disclosure(disclosure_id: int) -> Disclosure:
    return get_object_or_404(Disclosure.objects.prefetch_related("schools"), pk=disclosure_id)


# --- The privacy notice --------------------------------------------------------------------------


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
