"""Progress against the flight path: pure functions of dates and points.

The flight path runs in a straight line from a pupil's baseline (their first result on the
subject's headline aspect) to their target (its points, on its due date). A later result is "on"
track within ``TOLERANCE`` points of the line at its date, else above or below it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

TOLERANCE = Decimal("0.5")

BELOW, ON, ABOVE, UNKNOWN = "below", "on", "above", "unknown"
LABELS = {BELOW: "Below", ON: "On track", ABOVE: "Above", UNKNOWN: "Not enough data"}


@dataclass(frozen=True)
class Point:
    on: dt.date
    points: Decimal


def flight_path_at(baseline: Point, target: Point, day: dt.date) -> Decimal:
    """The points the flight path expects on ``day`` (the target's points from its due date on)."""
    span = (target.on - baseline.on).days
    if span <= 0 or day >= target.on:
        return target.points
    if day <= baseline.on:
        return baseline.points
    fraction = Decimal((day - baseline.on).days) / Decimal(span)
    return baseline.points + (target.points - baseline.points) * fraction


def progress_status(*, baseline: Point | None, target: Point | None, latest: Point | None,
                    tolerance: Decimal = TOLERANCE) -> str:
    """below, on or above the flight path; unknown without a baseline, a target and a later result."""
    if baseline is None or target is None or latest is None or latest.on <= baseline.on:
        return UNKNOWN
    expected = flight_path_at(baseline, target, latest.on)
    if latest.points < expected - tolerance:
        return BELOW
    if latest.points > expected + tolerance:
        return ABOVE
    return ON
