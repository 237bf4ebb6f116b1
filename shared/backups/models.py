from __future__ import annotations

from django.db import models
from django.db.models import Q

from shared import clock
from shared.schools.models import School


class SchoolDataKey(models.Model):
    """The key one school's backups are encrypted with, stored only wrapped (encrypted) by the master
    key named by ``master_key_id``; the master key itself lives in the environment, never here.

    Destroying it (retention, with the school's schema) deletes the wrapped key and keeps the row,
    saying when and by what: every backup made with it can no longer be read by anyone."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="data_keys")
    wrapped_key = models.BinaryField(null=True, editable=False, help_text="Nonce and AES-GCM ciphertext; null once destroyed")
    master_key_id = models.CharField(max_length=40, help_text="Which master key wrapped it (a fingerprint, not the key)")
    created_at = models.DateTimeField(default=clock.now)
    destroyed_at = models.DateTimeField(null=True, blank=True)
    destroyed_by = models.CharField(max_length=40, blank=True, help_text="What destroyed it, e.g. retention")

    class Meta:
        ordering = ["school_id", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["school"], condition=Q(destroyed_at__isnull=True),
                                    name="backups_one_live_key_per_school"),
            models.CheckConstraint(condition=Q(destroyed_at__isnull=True, wrapped_key__isnull=False)
                                   | Q(destroyed_at__isnull=False, wrapped_key__isnull=True),
                                   name="backups_key_material_or_destroyed"),
        ]

    def __str__(self) -> str:
        return f"data key #{self.pk} of school {self.school_id}" + (" (destroyed)" if self.destroyed_at else "")
