"""Reads on marketing records."""

from __future__ import annotations

from django.db.models import QuerySet

from shared.marketing.models import Prospect


def prospects_for_marketing() -> QuerySet[Prospect]:
    """The marketing list: prospects who may be contacted, with an email address. Those who objected
    to direct marketing, and those whose processing is restricted at their request, are never on it."""
    return Prospect.objects.filter(objected_to_marketing_at=None, processing_restricted=False).exclude(email="")
