from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from shared import clock
from shared.changes import Action, ActorKind


class Visit(models.Model):
    """One request to any site. The table is partitioned by month on ``occurred_at`` (created by
    SQL in the migration, hence unmanaged); rows arrive in batches from ``visits.visits_flush``."""

    pk = models.CompositePrimaryKey("id", "occurred_at")
    id = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    host = models.CharField(max_length=253)
    path = models.CharField(max_length=2000)
    method = models.CharField(max_length=10)
    status = models.SmallIntegerField(null=True)
    ip = models.GenericIPAddressField(null=True)
    user_id = models.BigIntegerField(null=True, help_text="In the schema named by schema_name.")
    schema_name = models.CharField(max_length=63)

    class Meta:
        managed = False
        db_table = "technical_visit"
        ordering = ["-occurred_at"]


class ChangeLogEntry(models.Model):
    """Who added, edited or deleted which object, and which fields: never the values."""

    Action = Action
    ActorKind = ActorKind

    occurred_at = models.DateTimeField(default=clock.now, db_index=True)
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor_id = models.BigIntegerField(null=True, blank=True, help_text="User id, in actor_schema.")
    actor_schema = models.CharField(max_length=63, help_text="Where the actor's account lives.")
    object_schema = models.CharField(max_length=63, help_text="Where the object lives.")
    object_type = models.CharField(max_length=100, help_text="app_label.model")
    object_id = models.CharField(max_length=64)
    action = models.CharField(max_length=6, choices=Action.choices)
    fields = ArrayField(models.CharField(max_length=100), default=list, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"]), models.Index(fields=["actor_kind", "actor_id"]),
                   # a school account's changes: access exports and erasure
                   models.Index(fields=["actor_schema", "actor_id"], name="technical_change_actor_idx")]
        verbose_name_plural = "change log entries"

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_type}#{self.object_id}"


class VisitPartitionRows(models.Model):
    """How many rows each monthly visit partition holds, kept by the flush as it copies them in,
    so that dropping a partition records its exact count without counting millions of rows."""

    partition = models.CharField(max_length=63, unique=True)
    rows = models.BigIntegerField(default=0)


class AutomatedRun(models.Model):
    """When an automated process (``shared.automation``) last ran, per school: one row per process
    and school, overwritten by each run (``services.automated_run_record``). ``school_id`` is null
    for a run that was not for one school. No personal data: names of processes, ids, times."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Nothing to do"

    process = models.CharField(max_length=100, help_text="The actor's name.")
    school_id = models.BigIntegerField(null=True, blank=True, help_text="schools.School id; null: not for one school.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["process", "school_id"], nulls_distinct=False,
                                               name="technical_automatedrun_one_per_school")]
        indexes = [models.Index(fields=["school_id"], name="technical_automatedrun_school")]

    def __str__(self) -> str:
        return f"{self.process} · school {self.school_id} · {self.outcome}"
