"""Checks shared by the compliance registers' services: a recorded time is not in the future, and a
list of choices is non-empty and known. Each raises ValidationError keyed by the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError

from shared import clock
from shared.dates import PAST
from shared.privacy.retention.registry import Category

CATEGORY_VALUES = frozenset(category.value for category in Category)


def not_in_future(when: dt.datetime | None, field: str, what: str) -> None:
    if when is not None and when > clock.now():
        raise ValidationError({field: f"{what} cannot be in the future."})
    PAST.check(when, field=field)


def choices_check(values: Sequence[str], allowed: Iterable[str], field: str, what: str) -> list[str]:
    values = list(dict.fromkeys(values))
    if not values:
        raise ValidationError({field: f"Name at least one {what}."})
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValidationError({field: f"Unknown {what}: {', '.join(unknown)}."})
    return values
