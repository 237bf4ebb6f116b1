"""Reads on marketing records: the one list direct marketing goes to."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from shared import clock
from shared.marketing.models import MarketingPurpose, Prospect, ProspectConsent


def prospects_for_marketing(*, purpose: str = MarketingPurpose.NEWS_AND_OFFERS,
                            as_of: dt.datetime | None = None) -> QuerySet[Prospect]:
    """The prospects direct marketing (``purpose``) may go to at ``as_of`` (now by default): those
    with an email address whose consent was given at or before ``as_of`` and not withdrawn by then,
    and who never objected to direct marketing nor have their processing restricted at their request.
    Anyone who never consented is not on it."""
    if purpose not in MarketingPurpose.values:
        raise ValueError(f"not a marketing purpose: {purpose!r}")
    as_of = as_of or clock.now()
    consented = ProspectConsent.objects.filter(Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=as_of),
                                               purpose=purpose, given_at__lte=as_of)
    return (Prospect.objects.filter(pk__in=consented.values("prospect_id"), objected_to_marketing_at__isnull=True,
                                    processing_restricted=False)
            .exclude(email="").order_by("organisation", "full_name", "pk"))
