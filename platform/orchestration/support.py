"""An operator's reads of a school's data under an approved support grant.

The readers take the *grant* the guard (``shared.support.services.support_grant_require``) returned,
never a bare school, so a view cannot reach them without having been through it. They enter the
school's schema, read, and return plain lists (never lazy querysets, which would run later in
``public``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404
from django_tenants.utils import schema_context

from shared.support.models import SupportAccessRequest
from tenants.assessment import charts
from tenants.assessment.selectors import pupil_progress
from tenants.pupils.models import Pupil


@dataclass(frozen=True)
class SupportPupilRow:
    id: int
    forename: str
    surname: str
    year_group: str
    registration_group: str
    sen: str
    on_roll: bool


def support_pupil_list(*, grant: SupportAccessRequest, search: str = "") -> list[SupportPupilRow]:
    """The school's pupils on roll (those who have left too when searching), as the school's admin
    would see them: name, year, registration group, SEN."""
    with schema_context(grant.school.schema_name):
        queryset = Pupil.objects.filter(on_roll=True)
        if search.strip():
            term = search.strip()
            queryset = Pupil.objects.filter(Q(forename__icontains=term) | Q(surname__icontains=term))
        return [SupportPupilRow(p.pk, p.forename, p.surname, p.year_group, p.registration_group,
                                p.get_sen_provision_display(), p.on_roll)
                for p in queryset.only("id", "forename", "surname", "year_group", "registration_group",
                                       "sen_provision", "on_roll")]


@dataclass(frozen=True)
class SupportPupilPage:
    pupil: object  # tenants.pupils.models.Pupil, read in the school's schema
    progress: list  # (SubjectProgress, rendered chart) pairs
    groups: list[str]


def support_pupil_detail(*, grant: SupportAccessRequest, pupil_id: int) -> SupportPupilPage:
    """One pupil's page: facts, groups and progress per subject with its chart."""
    with schema_context(grant.school.schema_name):
        pupil = Pupil.objects.filter(pk=pupil_id).defer("upn").first()
        if pupil is None:
            raise Http404("No such pupil")
        progress = [(p, charts.progress_chart(p)) for p in pupil_progress(pupil)]
        groups = list(pupil.groups.values_list("name", flat=True))
        return SupportPupilPage(pupil=pupil, progress=progress, groups=groups)
