"""Someone who objects to direct marketing is never contacted again."""

from __future__ import annotations

import pytest

from shared.changes import Actor
from shared.marketing import services
from shared.marketing.models import Prospect, ProspectInteraction
from shared.operators.models import Operator

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor() -> Actor:
    return Actor.operator(Operator.objects.get(role=Operator.Role.SUPPORT).user)


def test_an_objector_is_never_contacted_again(actor):
    prospect = services.prospect_create(actor=actor, full_name="Ann Bell", organisation="Brook School")
    services.prospect_interaction_record(actor=actor, prospect=prospect, direction="out", channel="email",
                                         summary="Sent brochure")
    services.prospect_object(actor=actor, prospect=prospect)
    prospect.refresh_from_db()
    last_before = prospect.last_interaction_at

    with pytest.raises(services.MarketingObjection, match="must not be contacted"):
        services.prospect_interaction_record(actor=actor, prospect=prospect, direction="out", channel="phone",
                                             summary="Follow-up call")

    prospect.refresh_from_db()
    assert prospect.interactions.count() == 1
    assert prospect.last_interaction_at == last_before


def test_an_objectors_own_message_is_still_recorded(actor):
    prospect = Prospect.objects.get(full_name="Peter Hughes")

    services.prospect_interaction_record(actor=actor, prospect=prospect, direction="in", channel="email",
                                         summary="Asked us to confirm deletion")

    assert prospect.interactions.filter(direction=ProspectInteraction.Direction.INBOUND).count() == 1
