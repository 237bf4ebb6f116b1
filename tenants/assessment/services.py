"""Writes on assessment. A marksheet is saved whole or not at all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from shared.audit.services import change_log_record_many
from shared.changes import Action, Actor
from shared.dates import PAST
from tenants.assessment.calendar import locked_dates_check, window_of
from tenants.assessment.models import Aspect, AssessmentPoint, Result
from tenants.assessment.selectors import marksheet_current
from tenants.pupils.models import Group
from tenants.users.models import User


class StaleMarksheet(ValidationError):
    """Someone saved the sheet after this form was opened: ``changed`` maps pupil id to the grade id
    saved meanwhile (None: cleared)."""

    def __init__(self, message: str, *, changed: dict[int, int | None]):
        super().__init__(message, code="stale")
        self.changed = changed


@transaction.atomic
def marksheet_save(*, user: User, group: Group, aspect: Aspect, grades: Mapping[int, int | None],
                   recorded_on: dt.date | None = None, point: AssessmentPoint | None = None,
                   expected: Mapping[int, int | None] | None = None) -> int:
    """Save a group's grades for one aspect, either on a date (not in the future) or for an
    assessment ``point`` (dated the point's day, which may be ahead while its results are being
    collected): ``grades`` maps pupil id to grade id, or to None to clear that pupil's result (for
    a point: every result of theirs in its window). Every pupil must be in the group and every grade
    in the aspect's grade set, and the date must not be in a locked point; otherwise nothing is
    saved and the error names the pupil or the point.

    ``expected`` is what the form showed (pupil id -> grade id or None): when someone saved a
    different grade for any of those pupils meanwhile, nothing is saved and ``StaleMarksheet``
    names them. An entry equal to the grade already saved is left alone. Returns how many results
    were written or cleared."""
    if point is not None:
        recorded_on = point.date
    else:
        PAST.check(recorded_on, field="recorded_on")
    locked_dates_check([recorded_on])
    members = {pupil.pk: pupil for pupil in group.pupils.only("id", "forename", "surname")}
    valid_grades = {g.pk: g for g in aspect.grade_set.grades.all()}
    for pupil_id, grade_id in grades.items():
        if pupil_id not in members:
            raise ValidationError(f"Pupil {pupil_id} is not in {group.name}.")
        if grade_id is not None and grade_id not in valid_grades:
            raise ValidationError(f"{members[pupil_id]}: that grade is not in the {aspect.grade_set.name} grade set.")
    # One save of a sheet (group, aspect, date) at a time, so the comparison below cannot race.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                       [f"marksheet:{connection.schema_name}:{aspect.pk}:{recorded_on.isoformat()}"])
    window = window_of(point) if point is not None else None
    current = {pid: value[0] for pid, value in
               marksheet_current(aspect=aspect, pupil_ids=list(grades), window=window, recorded_on=recorded_on).items()}
    if expected is not None:
        changed = {pid: current.get(pid) for pid, shown in expected.items()
                   if pid in grades and current.get(pid) != shown}
        if changed:
            names = ", ".join(f"{members[pid].forename} {members[pid].surname} (now "
                              f"{valid_grades[gid].label if gid in valid_grades else 'blank'})"
                              for pid, gid in sorted(changed.items(), key=lambda kv: str(members[kv[0]]))
                              if pid in members)
            raise StaleMarksheet(f"Someone else saved this sheet after you opened it: {names}. Nothing was saved. "
                                 "Your entries are still on the page; check those pupils and save again.",
                                 changed=changed)
    grades = {pid: gid for pid, gid in grades.items() if current.get(pid) != gid}
    to_set = {pupil_id: grade_id for pupil_id, grade_id in grades.items() if grade_id is not None}
    to_clear = [pupil_id for pupil_id, grade_id in grades.items() if grade_id is None]
    cleared = Result.objects.filter(aspect=aspect, pupil_id__in=to_clear)
    if window is not None:
        cleared = cleared.filter(recorded_on__range=(window.starts_on, window.ends_on))
    else:
        cleared = cleared.filter(recorded_on=recorded_on)
    cleared_ids = list(cleared.values_list("pk", flat=True))
    cleared.delete()
    saved = Result.objects.bulk_create(
        [Result(pupil_id=pupil_id, aspect=aspect, grade_id=grade_id, recorded_on=recorded_on, recorded_by=user)
         for pupil_id, grade_id in to_set.items()],
        update_conflicts=True, unique_fields=["pupil", "aspect", "recorded_on"], update_fields=["grade", "recorded_by"],
    )
    change_log_record_many(
        actor=Actor.school_user(user, connection.schema_name), object_type="assessment.result",
        changes=[(r.pk, Action.UPDATE, ["grade", "recorded_on", "recorded_by"]) for r in saved]
        + [(pk, Action.DELETE, []) for pk in cleared_ids],
    )
    return len(saved) + len(cleared_ids)
