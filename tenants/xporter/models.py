from __future__ import annotations

from django.db import models

from shared import clock


class XporterConnection(models.Model):
    """The school's Xporter on Demand credentials and sync position (one row). Integration
    credentials are configuration: they go 3 months after a contract is cancelled."""

    base_url = models.URLField(default="https://xporter.groupcall.com")
    estab = models.CharField("Establishment number", max_length=20)
    relying_party = models.CharField(max_length=200)
    password = models.CharField(max_length=200)
    third_party_id = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=True, help_text="Off: no more imports; the data already imported stays.")
    cursors = models.JSONField(default=dict, blank=True, help_text="NextChangedRows per changeset: endpoint with its exact options and parameters.")
    last_success_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Xporter {self.estab}"


class ImportRun(models.Model):
    class Source(models.TextChoices):
        API = "api", "Xporter on Demand"
        FILE = "file", "Uploaded file"

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    source = models.CharField(max_length=4, choices=Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    started_at = models.DateTimeField(default=clock.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
