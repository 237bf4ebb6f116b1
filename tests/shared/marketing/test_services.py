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


def test_an_objection_stops_marketing_to_every_address_of_the_person(actor):
    """One objection covers the person: every prospect record with their address objects too (their
    consents withdrawn), the address's mail preferences turn marketing off, and a marketing message
    to it is not sent. A record with another address is untouched."""
    from shared.mail.selectors import wants
    from shared.mail.services import mail_send
    from shared.mail.topics import Topic
    from shared.marketing.models import ProspectConsent

    first = services.prospect_create(actor=actor, full_name="Dana Price", organisation="Brook School",
                                     email="dana@brook.example")
    second = services.prospect_create(actor=actor, full_name="Dana Price", organisation="Brook Trust",
                                      email="Dana@Brook.example")
    other = services.prospect_create(actor=actor, full_name="Eli Price", organisation="Brook Trust",
                                     email="eli@brook.example")
    services.prospect_consent_give(actor=actor, prospect=second, how="Ticked the box at the Bett show")

    services.prospect_object(actor=actor, prospect=first)

    for prospect in (first, second, other):
        prospect.refresh_from_db()
    assert first.objected_to_marketing_at is not None
    assert second.objected_to_marketing_at == first.objected_to_marketing_at
    assert other.objected_to_marketing_at is None
    assert not ProspectConsent.objects.filter(prospect=second, withdrawn_at__isnull=True).exists()
    assert not wants("DANA@brook.example", Topic.MARKETING) and wants("dana@brook.example", Topic.SECURITY)
    assert wants("eli@brook.example", Topic.MARKETING)
    assert mail_send(to="dana@brook.example", template="test_message", context={}, topic=Topic.MARKETING) is None
    with pytest.raises(services.MarketingObjection):
        services.prospect_consent_give(actor=actor, prospect=second, how="Ticked the box again")
