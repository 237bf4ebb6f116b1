from __future__ import annotations

from django.conf import settings
from django.db import models


class Operator(models.Model):
    """A vendor staff member's console role. Lives in ``public`` only."""

    class Role(models.TextChoices):
        SUPPORT = "support", "Support"
        BILLING = "billing", "Billing"
        DPO = "dpo", "Data protection officer"
        ADMINISTRATOR = "administrator", "Administrator"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="operator")
    role = models.CharField(max_length=20, choices=Role.choices)

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"
