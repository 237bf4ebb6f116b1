"""Branding (one row per school) and the documents a school uploads."""

from django.conf import settings
from django.db import models

from tenants.configuration.storage import branding_upload_to, document_upload_to, school_files


class Branding(models.Model):
    """How the school's site looks: an accent colour and an optional logo (PNG, JPEG or GIF)."""

    DEFAULT_COLOUR = "#1d4f91"

    accent_colour = models.CharField(max_length=7, default=DEFAULT_COLOUR)
    logo = models.FileField(upload_to=branding_upload_to, storage=school_files, blank=True)
    logo_content_type = models.CharField(max_length=40, blank=True)
    changed_at = models.DateTimeField(auto_now=True)


class SchoolDocument(models.Model):
    """A file the school keeps on the platform for its staff (assessment policy, report templates)."""

    title = models.CharField(max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    file = models.FileField(upload_to=document_upload_to, storage=school_files)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class SignInPolicy(models.Model):
    """How the school's users sign in (one row, absent until a school admin first changes it).
    School admins always need a second factor; with ``staff_second_factor_required`` teachers do too."""

    staff_second_factor_required = models.BooleanField(default=False)
    changed_at = models.DateTimeField(auto_now=True)
