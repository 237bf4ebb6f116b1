from __future__ import annotations

from django.db import models

from shared import clock
from tenants.xporter import secret_box


class XporterConnection(models.Model):
    """The school's Xporter on Demand credentials and sync position (one row). Integration
    credentials are configuration: they go 3 months after a contract is cancelled.

    The school's secret is kept sealed (``secret_box``): set it through ``password``; only
    ``services.client_for`` opens it, to ask for a token. Saving reseals it under the current key."""

    base_url = models.URLField(default="https://xporter.groupcall.com")
    estab = models.CharField("Establishment number", max_length=20)
    relying_party = models.CharField(max_length=200)
    secret_sealed = models.TextField(blank=True, editable=False,
                                     help_text="The school's secret, sealed with XPORTER_SECRET_KEYS; never shown.")
    third_party_id = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=True, help_text="Off: no more imports; the data already imported stays.")
    cursors = models.JSONField(default=dict, blank=True, help_text="NextChangedRows per changeset: endpoint with its exact options and parameters.")
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure_reason = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Xporter {self.estab}"

    def __repr__(self) -> str:
        return f"<XporterConnection {self.pk} estab={self.estab!r}>"

    @property
    def password(self) -> str:
        # Transitional, for callers that build their own client (tests of the sync); the product
        # opens the secret in services.client_for only.
        return secret_box.unseal(self.secret_sealed)

    @password.setter
    def password(self, plaintext: str) -> None:
        self.secret_sealed = secret_box.seal(plaintext)

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_sealed)

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if self.secret_sealed and (update_fields is None or "secret_sealed" in update_fields):
            self.secret_sealed = secret_box.reseal(self.secret_sealed)
        super().save(*args, **kwargs)


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
