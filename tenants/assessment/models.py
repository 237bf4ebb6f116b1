from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.pupils.models import Pupil


class Subject(models.Model):
    xporter_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    name = models.CharField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GradeSet(models.Model):
    """A set of grades in order. ``expected_from`` and ``greater_depth_from`` say which grades count
    as working at the expected standard (that grade and every later one) and at greater depth; unset,
    the grade set reports no such measure."""

    xporter_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    name = models.CharField(max_length=60)
    expected_from = models.ForeignKey("Grade", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    greater_depth_from = models.ForeignKey("Grade", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return self.name


class Grade(models.Model):
    """One grade of a grade set, in order, with the points that progress is measured in."""

    grade_set = models.ForeignKey(GradeSet, on_delete=models.CASCADE, related_name="grades")
    label = models.CharField(max_length=20)
    order = models.PositiveSmallIntegerField()
    points = models.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        ordering = ["grade_set", "order"]
        constraints = [models.UniqueConstraint(fields=["grade_set", "label"], name="assessment_grade_unique_label")]

    def __str__(self) -> str:
        return self.label


class Aspect(models.Model):
    """Something assessed in a subject (a teacher assessment, a test), graded from one grade set.
    The subject's headline aspect is the one its progress and targets are measured on."""

    xporter_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="aspects")
    name = models.CharField(max_length=80)
    grade_set = models.ForeignKey(GradeSet, on_delete=models.PROTECT, related_name="aspects")
    is_headline = models.BooleanField(default=False)

    class Meta:
        ordering = ["subject", "-is_headline", "name"]
        constraints = [
            models.UniqueConstraint(fields=["subject"], condition=models.Q(is_headline=True),
                                    name="assessment_one_headline_aspect"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} — {self.name}"


class AssessmentPoint(models.Model):
    """A data drop of the school's calendar (for example "Autumn 2026"). A result counts towards the
    point whose window holds its date: from the day after the previous point of the same school year
    (from 1 September for a school year's first point) up to and including the point's ``date``.
    A locked point's results can no longer be changed (``tenants.assessment.calendar``)."""

    name = models.CharField(max_length=60, unique=True)
    date = models.DateField(unique=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return self.name

    @property
    def locked(self) -> bool:
        return self.locked_at is not None


class Result(models.Model):
    xporter_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    row_hash = models.CharField(max_length=64, blank=True)
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="results")
    aspect = models.ForeignKey(Aspect, on_delete=models.CASCADE, related_name="results")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")
    recorded_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["recorded_on"]
        constraints = [models.UniqueConstraint(fields=["pupil", "aspect", "recorded_on"], name="assessment_result_unique")]
        indexes = [models.Index(fields=["aspect", "recorded_on"])]


class Target(models.Model):
    """Where a pupil should be in a subject by ``due_on``, on the headline aspect's grade set."""

    xporter_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    row_hash = models.CharField(max_length=64, blank=True)
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="targets")
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="targets")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pupil", "subject"], name="assessment_target_unique")]
