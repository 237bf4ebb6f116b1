"""The register of disclosures: personal data given to a third party, accepted only on the privacy
notice's grounds, and its reads for the console. The write validates first, writes in one
transaction and records the field names it set in the change log; bad input raises ValidationError
and writes nothing. A disclosure may name its recipient in the register of recipients and the people
whose data it gave, by key (``recipients``): each becomes a holding, so that a later correction or
erasure of that person tells the recipient. A lookup by an id from a request goes through ``access_disclosure`` (Http404
when unknown)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.compliance.models import Disclosure, DisclosureGround, Recipient
from shared.compliance.recipients import holding_add
from shared.compliance.validation import CATEGORY_VALUES, choices_check, not_in_future
from shared.schools.models import School

CREATE = Action.CREATE


@transaction.atomic
def disclosure_record(*, actor: Actor, recipient: str, disclosed_at: dt.datetime, ground: str,
                      data_categories: Sequence[str], description: str, authorised_by: str, people: str = "",
                      references: str = "", schools: Iterable[School] = (), register_as: Recipient | None = None,
                      person_keys: Sequence[str] = ()) -> Disclosure:
    """Record personal data given to a third party. Only the privacy notice's grounds are accepted:
    a disclosure on any other ground is one the notice promised not to make. ``register_as`` (a
    recipient of the vendor's register) and ``person_keys`` record who received whose data."""
    if ground not in DisclosureGround.values:
        raise ValidationError({"ground": "The privacy notice allows a disclosure only on the grounds it lists."})
    data = {"recipient": recipient.strip(), "description": description.strip(), "authorised_by": authorised_by.strip(),
            "people": people.strip(), "references": references.strip()}
    missing = {name: "Required." for name in ("recipient", "description", "authorised_by") if not data[name]}
    if missing:
        raise ValidationError(missing)
    if ground == DisclosureGround.PERMISSION and not data["references"]:
        raise ValidationError({"references": "Say where the person's permission is recorded."})
    not_in_future(disclosed_at, "disclosed_at", "The disclosure's time")
    categories = choices_check(data_categories, CATEGORY_VALUES, "data_categories", "category of data")
    disclosure = Disclosure(**data, disclosed_at=disclosed_at, ground=ground, data_categories=categories,
                            recorded_by_id=actor.user_id)
    disclosure.full_clean()
    disclosure.save()
    schools = list(schools)
    disclosure.schools.set(schools)
    keys = list(dict.fromkeys(key.strip() for key in person_keys if key.strip()))
    if keys and register_as is None:
        raise ValidationError({"register_as": "Choose the recipient in the register of recipients."})
    if register_as is not None and register_as.school_id is not None:
        raise ValidationError({"register_as": "Choose a recipient of the vendor's register."})
    for key in keys:
        try:
            holding_add(actor=actor, recipient=register_as, what=data["description"], person=key,
                        received_on=timezone.localdate(disclosed_at), disclosure=disclosure)
        except ValidationError as error:
            raise ValidationError({"person_keys": f"{key}: {' '.join(error.messages)}"}) from None
    change_log_record(actor=actor, instance=disclosure, action=CREATE,
                      fields=["disclosed_at", "ground", "data_categories"]
                      + [name for name, value in data.items() if value] + (["schools"] if schools else []))
    return disclosure


def disclosure_list(*, ground: str = "") -> QuerySet[Disclosure]:
    queryset = Disclosure.objects.prefetch_related("schools")
    return queryset.filter(ground=ground) if ground else queryset


def access_disclosure(disclosure_id: int) -> Disclosure:
    return get_object_or_404(Disclosure.objects.prefetch_related("schools"), pk=disclosure_id)
