"""The one clock. Deadline and retention arithmetic asks this module for "now", so a test or an
``--as-of`` flag can stand on any day."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    return timezone.now()


def today() -> dt.date:
    """Today's date in the UK."""
    return timezone.localdate(now())
