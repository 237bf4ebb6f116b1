"""Writes on pupils' records that the school's staff make on its site (the records themselves
arrive from the MIS through ``tenants.xporter``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from shared.audit.services import change_log_record, change_log_record_many
from shared.changes import Action, Actor
from tenants.pupils.models import RetentionSettings


@transaction.atomic
def retention_grace_set(*, user, months: int) -> RetentionSettings:
    """The school admin sets how long after leaving a pupil's records are kept."""
    if months < 0:
        raise ValidationError({"grace_months": "Give 0 or more months."})
    settings_row = RetentionSettings.objects.first() or RetentionSettings()
    settings_row.grace_months = months
    settings_row.save()
    change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=settings_row,
                      action=Action.UPDATE, fields=["grace_months"])
    return settings_row


def pupils_leavers_mark(*, today) -> int:
    """Pupils whose leaving date has passed become leavers (on roll through that day), whether or
    not an import ran: retention's grace period runs from the leaving date. A pupil whose
    processing is restricted or objected to is left as they are (no automated process touches
    their record: ``tenants.rights.services.subject_flag``). Each change is change-logged, by the
    system. Returns how many."""
    from tenants.pupils.models import Pupil

    with transaction.atomic():
        leavers = list(Pupil.objects.select_for_update().filter(on_roll=True, leaving_date__lt=today)
                       .filter(processing_restricted=False, processing_objected=False).values_list("pk", flat=True))
        Pupil.objects.filter(pk__in=leavers).update(on_roll=False)
        change_log_record_many(actor=Actor.system(), object_type="pupils.Pupil",
                               changes=[(pk, Action.UPDATE, ["on_roll"]) for pk in leavers])
    return len(leavers)
