"""Writes on marketing records. Once a prospect objects to direct marketing, nothing contacts them
again: every outbound interaction is refused (their own inbound contact is still recorded), their
consent to marketing is withdrawn and none can be given again. The same holds while their data's
processing is restricted at their request. Direct marketing by email rests on consent: it goes only
to the list ``selectors.prospects_for_marketing`` builds, and a withdrawal takes them off it from
that moment."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.marketing.models import MarketingPurpose, Prospect, ProspectConsent, ProspectInteraction

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


def _object_one(*, actor: Actor, prospect: Prospect, now) -> None:
    if prospect.objected_to_marketing_at is None:
        prospect.objected_to_marketing_at = now
        prospect.save(update_fields=["objected_to_marketing_at"])
        change_log_record(actor=actor, instance=prospect, action=UPDATE, fields=["objected_to_marketing_at"])
    for consent in ProspectConsent.objects.select_for_update().filter(prospect=prospect, withdrawn_at__isnull=True):
        consent.withdrawn_at, consent.withdrawn_how = now, "Objected to direct marketing"
        consent.save(update_fields=["withdrawn_at", "withdrawn_how"])
        change_log_record(actor=actor, instance=consent, action=UPDATE, fields=["withdrawn_at", "withdrawn_how"])


@transaction.atomic
def prospect_object(*, actor: Actor, prospect: Prospect) -> Prospect:
    """Record an objection to direct marketing. Permanent: there is no service that lifts it.

    The objection is the person's, not one record's: every prospect record with the same email
    address objects too, and that address's mail preferences turn marketing off, so no list built
    from any of them reaches the person again."""
    now = clock.now()
    locked = Prospect.objects.select_for_update().get(pk=prospect.pk)
    _object_one(actor=actor, prospect=locked, now=now)
    if locked.email:
        for other in (Prospect.objects.select_for_update().filter(email__iexact=locked.email)
                      .exclude(pk=locked.pk).order_by("pk")):
            _object_one(actor=actor, prospect=other, now=now)
        _marketing_mail_off(actor=actor, address=locked.email, now=now)
    prospect.objected_to_marketing_at = locked.objected_to_marketing_at
    return prospect


def _marketing_mail_off(*, actor: Actor, address: str, now) -> None:
    """The address's mail preferences (``shared.mail``): marketing off, so no message about it is sent."""
    from shared.mail.models import MailPreference
    from shared.mail.tokens import address_normal
    from shared.mail.topics import Topic

    preference, created = MailPreference.objects.select_for_update().get_or_create(
        address=address_normal(address), defaults={"unsubscribed": [Topic.MARKETING.value], "changed_at": now})
    if created:
        change_log_record(actor=actor, instance=preference, action=CREATE, fields=["address", "unsubscribed", "changed_at"])
    elif Topic.MARKETING.value not in preference.unsubscribed:
        preference.unsubscribed = [*preference.unsubscribed, Topic.MARKETING.value]
        preference.changed_at = now
        preference.save(update_fields=["unsubscribed", "changed_at"])
        change_log_record(actor=actor, instance=preference, action=UPDATE, fields=["unsubscribed", "changed_at"])


def _how(how: str, *, field: str, required: bool) -> str:
    how = " ".join(how.split())
    if required and not how:
        raise ValidationError({field: "Say how: what they said or ticked, and where (it is the evidence)."})
    if len(how) > ProspectConsent._meta.get_field(field).max_length:
        raise ValidationError({field: "Keep it under 300 characters."})
    return how


@transaction.atomic
def prospect_consent_give(*, actor: Actor, prospect: Prospect, how: str,
                          purpose: str = MarketingPurpose.NEWS_AND_OFFERS) -> ProspectConsent:
    """Record a prospect's consent to direct marketing, from now (an interaction with us, so their
    3-year retention counts from it). Refused after an objection, or while a consent is in force."""
    if purpose not in MarketingPurpose.values:
        raise ValidationError({"purpose": "Choose a marketing purpose."})
    how = _how(how, field="given_how", required=True)
    prospect = Prospect.objects.select_for_update().get(pk=prospect.pk)
    if not prospect.may_be_contacted:
        raise MarketingObjection(f"{prospect.full_name} objected to direct marketing on "
                                 f"{prospect.objected_to_marketing_at:%d %B %Y}: an objection is permanent.")
    current = ProspectConsent.objects.filter(prospect=prospect, purpose=purpose, withdrawn_at__isnull=True).first()
    if current is not None:
        raise ValidationError({"purpose": f"{prospect.full_name} consented on {current.given_at:%d %B %Y} already."})
    now = clock.now()
    consent = ProspectConsent.objects.create(prospect=prospect, purpose=purpose, given_at=now, given_how=how,
                                             recorded_by_id=actor.user_id)
    prospect.last_interaction_at = now
    prospect.save(update_fields=["last_interaction_at"])
    change_log_record(actor=actor, instance=consent, action=CREATE,
                      fields=["prospect", "purpose", "given_at", "given_how", "recorded_by_id"])
    change_log_record(actor=actor, instance=prospect, action=UPDATE, fields=["last_interaction_at"])
    return consent


@transaction.atomic
def prospect_consent_withdraw(*, actor: Actor, prospect: Prospect, how: str = "",
                              purpose: str = MarketingPurpose.NEWS_AND_OFFERS) -> ProspectConsent:
    """Withdraw a prospect's consent to direct marketing from this moment: every list built from
    now on leaves them out. Refused when none is in force."""
    how = _how(how, field="withdrawn_how", required=False)
    consent = (ProspectConsent.objects.select_for_update()
               .filter(prospect=prospect, purpose=purpose, withdrawn_at__isnull=True).first())
    if consent is None:
        raise ValidationError({"purpose": f"{prospect.full_name} has no consent in force: nothing to withdraw."})
    consent.withdrawn_at, consent.withdrawn_how = clock.now(), how
    consent.save(update_fields=["withdrawn_at", "withdrawn_how"])
    change_log_record(actor=actor, instance=consent, action=UPDATE, fields=["withdrawn_at", "withdrawn_how"])
    return consent
