"""Which grades of a grade set count as working at the expected standard and at greater depth.

A grade set names its first expected grade and its first greater-depth grade (``GradeSet.
expected_from`` / ``greater_depth_from``); every later grade counts as that too. Grade sets that
come from Xporter or the demo get a first guess from their labels (EXS, GDS and their spelled-out
forms), which the school can change."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from tenants.assessment.models import Grade, GradeSet

BELOW, EXPECTED, GREATER_DEPTH = "below", "expected", "greater_depth"
STANDARD_LABELS = {BELOW: "Working towards", EXPECTED: "Expected standard", GREATER_DEPTH: "Greater depth"}
_EXPECTED_WORDS = ("EXS", "EXP", "EXPECTED", "SECURE", "MET")
_GREATER_WORDS = ("GDS", "GD", "GREATER", "DEPTH", "MASTERY", "EXCEEDING")


def standard_of(grade: Grade, grade_set: GradeSet) -> str | None:
    """below, expected or greater_depth; None when the grade set names no expected grade."""
    expected = grade_set.expected_from
    if expected is None:
        return None
    greater = grade_set.greater_depth_from
    if greater is not None and grade.order >= greater.order:
        return GREATER_DEPTH
    return EXPECTED if grade.order >= expected.order else BELOW


def thresholds(grade_set: GradeSet) -> tuple[int | None, int | None]:
    """The orders from which grades count as expected and as greater depth (None: not set)."""
    return (grade_set.expected_from.order if grade_set.expected_from else None,
            grade_set.greater_depth_from.order if grade_set.greater_depth_from else None)


def _first_matching(grades: list[Grade], words: tuple[str, ...]) -> Grade | None:
    for grade in grades:
        label = grade.label.upper().replace("-", " ").replace("+", " ").split()
        if label and any(label[0] == word or label[0].startswith(word) for word in words):
            return grade
    return None


def standards_guess(grade_set: GradeSet) -> GradeSet:
    """Set a grade set's thresholds from its labels when it has none yet (nothing if no label says)."""
    if grade_set.expected_from_id is not None:
        return grade_set
    grades = list(grade_set.grades.order_by("order"))
    expected = _first_matching(grades, _EXPECTED_WORDS)
    greater = _first_matching(grades, _GREATER_WORDS)
    if expected is None:
        return grade_set
    if greater is not None and greater.order <= expected.order:
        greater = None
    grade_set.expected_from, grade_set.greater_depth_from = expected, greater
    grade_set.save(update_fields=["expected_from", "greater_depth_from"])
    return grade_set


@transaction.atomic
def standards_set(*, user, grade_set: GradeSet, expected_from: Grade | None,
                  greater_depth_from: Grade | None) -> GradeSet:
    """The school says which grades count as which. Both must be grades of the set, and greater
    depth must come after expected; a greater-depth grade needs an expected one."""
    for grade, field in ((expected_from, "expected_from"), (greater_depth_from, "greater_depth_from")):
        if grade is not None and grade.grade_set_id != grade_set.pk:
            raise ValidationError({field: f"{grade.label} is not a grade of {grade_set.name}."})
    if greater_depth_from is not None and expected_from is None:
        raise ValidationError({"expected_from": "Choose the first expected grade before the first greater-depth one."})
    if greater_depth_from is not None and greater_depth_from.order <= expected_from.order:
        raise ValidationError({"greater_depth_from": "Greater depth must start at a grade after the expected standard."})
    grade_set = GradeSet.objects.select_for_update().get(pk=grade_set.pk)
    grade_set.expected_from, grade_set.greater_depth_from = expected_from, greater_depth_from
    grade_set.save(update_fields=["expected_from", "greater_depth_from"])
    change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=grade_set, action=Action.UPDATE,
                      fields=["expected_from", "greater_depth_from"])
    return grade_set
