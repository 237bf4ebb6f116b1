"""A school's subject requests, the one-time export links that answer access requests, and
consent records."""

from django.conf import settings
from django.db import models

from shared import clock
from shared.privacy.request_base import SubjectRequestBase
from tenants.pupils.models import ParentCarer, Pupil


class SchoolRequest(SubjectRequestBase):
    """A request about someone whose data the school controls: a pupil, a parent or carer, or a
    user of the school's site. Received by the school, or handed over by the vendor."""

    pupil = models.ForeignKey(Pupil, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    parent = models.ForeignKey(ParentCarer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    subject_label = models.CharField(max_length=120, blank=True,
                                     help_text="Who the request is about, kept after an erasure removes the record")
    vendor_request_id = models.BigIntegerField(null=True, blank=True, help_text="The vendor's request, if forwarded")

    def subject(self):
        return self.pupil or self.parent or self.user


class ExportLink(models.Model):
    """An access or portability export, downloadable once, until it expires. Only a digest of the
    link's token is stored."""

    request = models.ForeignKey(SchoolRequest, on_delete=models.CASCADE, related_name="exports")
    token_digest = models.CharField(max_length=64, unique=True)
    file = models.CharField(max_length=255, help_text="Path in the school's folder")
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    downloaded_at = models.DateTimeField(null=True, blank=True)


class Consent(models.Model):
    """What a pupil or parent consented to, when, and when it was withdrawn: the school's own record
    (it is the controller); nothing in the service rests on it (see the package's docstring)."""

    pupil = models.ForeignKey(Pupil, null=True, blank=True, on_delete=models.CASCADE, related_name="consents")
    parent = models.ForeignKey(ParentCarer, null=True, blank=True, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=200, help_text="What the consent is for, e.g. photographs on reports")
    given_on = models.DateField(default=clock.today)
    withdrawn_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["-given_on", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(pupil__isnull=False) | models.Q(parent__isnull=False),
                                              name="rights_consent_names_someone")]

    @property
    def active(self) -> bool:
        return self.withdrawn_on is None
