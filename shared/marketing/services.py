"""Writes on marketing records. Once a prospect objects to direct marketing, nothing contacts them
again: every outbound interaction is refused (their own inbound contact is still recorded). The same
holds while their data's processing is restricted at their request."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.marketing.models import Prospect, ProspectInteraction

CREATE, UPDATE = Action.CREATE, Action.UPDATE


class MarketingObjection(ValidationError):
    """Refused: the person objected to direct marketing."""


@transaction.atomic
def prospect_create(*, actor: Actor, full_name: str, organisation: str, role: str = "", email: str = "",
                    phone: str = "", notes: str = "") -> Prospect:
    data = {"full_name": full_name.strip(), "organisation": organisation.strip(), "role": role.strip(),
            "email": email.strip().lower(), "phone": phone.strip(), "notes": notes.strip()}
    prospect = Prospect(**data)
    prospect.full_clean()
    prospect.save()
    change_log_record(actor=actor, instance=prospect, action=CREATE,
                      fields=[name for name, value in data.items() if value] + ["last_interaction_at"])
    return prospect


@transaction.atomic
def prospect_interaction_record(*, actor: Actor, prospect: Prospect, direction: str, channel: str,
                                summary: str) -> ProspectInteraction:
    """Record a touch point and move the prospect's last-interaction date (which their 3-year
    retention counts from). Contacting someone who objected is refused."""
    prospect = Prospect.objects.select_for_update().get(pk=prospect.pk)
    if direction == ProspectInteraction.Direction.OUTBOUND and prospect.processing_restricted:
        raise MarketingObjection(f"{prospect.full_name} asked us to restrict the processing of their data: "
                                 "they must not be contacted while it is restricted.")
    if direction == ProspectInteraction.Direction.OUTBOUND and not prospect.may_be_contacted:
        raise MarketingObjection(
            f"{prospect.full_name} objected to direct marketing on "
            f"{prospect.objected_to_marketing_at:%d %B %Y} and must not be contacted."
        )
    interaction = ProspectInteraction(prospect=prospect, direction=direction, channel=channel,
                                      summary=summary.strip(), recorded_by_id=actor.user_id)
    interaction.full_clean()
    interaction.save()
    prospect.last_interaction_at = interaction.occurred_at
    prospect.save(update_fields=["last_interaction_at"])
    change_log_record(actor=actor, instance=interaction, action=CREATE, fields=["prospect", "direction", "channel", "summary"])
    change_log_record(actor=actor, instance=prospect, action=UPDATE, fields=["last_interaction_at"])
    return interaction


@transaction.atomic
def prospect_object(*, actor: Actor, prospect: Prospect) -> Prospect:
    """Record an objection to direct marketing. Permanent: there is no service that lifts it."""
    if prospect.objected_to_marketing_at is None:
        prospect.objected_to_marketing_at = clock.now()
        prospect.save(update_fields=["objected_to_marketing_at"])
        change_log_record(actor=actor, instance=prospect, action=UPDATE, fields=["objected_to_marketing_at"])
    return prospect
