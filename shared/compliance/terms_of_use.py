"""The Terms of Use (the data-processing terms that make the vendor each school's processor): their
published versions, and each school's acceptance of them.

Publishing a new version follows the privacy notice's rules (``notices``) and one more: the text must
keep a section for each thing UK GDPR Article 28(3) requires of a controller-processor contract
(``REQUIRED_SECTIONS``, each a heading line), so a version that drops one is refused.

A school has accepted the current terms when one of its admins accepted the latest published version:
who (their user id in the school's schema, the name they typed, their email), when (the shared clock)
and from which address. One acceptance per school and version: a second submit, or a second admin,
finds the first. Until then the school site sends the school's admins to the terms page
(``portal.middleware.TermsAcceptanceMiddleware``). Accepting any version but the current one is
refused. The acceptance is written in ``public`` (the vendor is the controller of that record) and
change-logged."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.shortcuts import get_object_or_404
from django_tenants.utils import get_public_schema_name, schema_context

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.compliance.models import TermsAcceptance, TermsVersion
from shared.compliance.versions import version_latest, version_publish
from shared.process_cache import ProcessCache
from shared.schools.models import School

# UK GDPR Article 28(3): what the contract must set out, each as a heading of the terms' text.
REQUIRED_SECTIONS: tuple[tuple[str, str], ...] = (
    ("Subject matter, duration, nature and purpose of the processing", "Art 28(3), opening words"),
    ("Types of personal data and categories of data subjects", "Art 28(3), opening words"),
    ("Processing only on the school's documented instructions", "Art 28(3)(a)"),
    ("Confidentiality", "Art 28(3)(b)"),
    ("Security of processing", "Art 28(3)(c), Art 32"),
    ("Sub-processors", "Art 28(3)(d), Art 28(2) and (4)"),
    ("Assisting with data subjects' rights", "Art 28(3)(e)"),
    ("Assisting with security, breaches and impact assessments", "Art 28(3)(f), Arts 32 to 36"),
    ("Deletion or return at the end of the service", "Art 28(3)(g)"),
    ("Information and audits", "Art 28(3)(h)"),
    ("The school's obligations as controller", "the privacy notice: our terms require that our clients process "
                                               "this data in accordance with applicable data legislation"),
)

# Whether each school has yet to accept the current version, kept in each process; invalidated by
# any write to a version or an acceptance (apps.py's signals): a new version stops admins at once.
TERMS_DUE = ProcessCache("terms-due", ttl=60.0)


def _normalise(text: str) -> str:
    return text.replace("\u2019", "'").casefold()


def terms_missing_sections(text: str) -> list[str]:
    """The required sections whose heading is not a line of ``text`` (a number in front allowed)."""
    lines = {re.sub(r"^\s*\d+[.)]?\s*", "", line).strip() for line in _normalise(text).splitlines()}
    return [heading for heading, _ in REQUIRED_SECTIONS if _normalise(heading) not in lines]


@transaction.atomic
def terms_version_publish(*, actor: Actor, version: str, text: str, summary: str,
                          published_on: dt.date | None = None) -> TermsVersion:
    """Publish a new version of the Terms of Use: from now on each school's admin is asked to
    accept it at their next page on the school's site."""
    return version_publish(TermsVersion, actor=actor, version=version, text=text, summary=summary,
                           published_on=published_on, text_name="the terms'", shown_to="school admins",
                           from_posting="schools are asked to accept it from when it is posted",
                           text_problem=_sections_problem)


def _sections_problem(text: str) -> str | None:
    missing = terms_missing_sections(text)
    if missing:
        return ("UK GDPR Article 28(3) requires these sections, each under its own heading line: "
                + "; ".join(missing) + ".")
    return None


def terms_versions() -> QuerySet[TermsVersion]:
    """Every published version, newest first, without the full texts."""
    return TermsVersion.objects.defer("text")


def terms_current() -> TermsVersion | None:
    """The version every school must have accepted: the latest published."""
    return version_latest(TermsVersion)


def access_terms_version(version: str) -> TermsVersion:
    return get_object_or_404(TermsVersion, version=version)


def terms_acceptance_due(*, school_id: int) -> bool:
    """Whether the school has yet to accept the current version (False when none is published).
    One query, or none (TERMS_DUE): the school site asks it on every page a school admin opens."""
    return TERMS_DUE.get(school_id, lambda: _terms_acceptance_due(school_id))


def _terms_acceptance_due(school_id: int) -> bool:
    accepted = (TermsVersion.objects.order_by("-published_on", "-id")
                .annotate(accepted=Exists(TermsAcceptance.objects.filter(school_id=school_id, terms=OuterRef("pk"))))
                .values_list("accepted", flat=True).first())
    return accepted is False


@dataclass(frozen=True)
class TermsStatus:
    """Where a school stands: the current version, its acceptance of it (None: not accepted), the
    version it accepted last (what its processing runs under until it accepts the current one), and
    every acceptance, newest first."""

    current: TermsVersion | None
    accepted: TermsAcceptance | None
    latest: TermsAcceptance | None
    history: list[TermsAcceptance]

    @property
    def due(self) -> bool:
        return self.current is not None and self.accepted is None


def terms_status(*, school_id: int) -> TermsStatus:
    current = terms_current()
    history = list(TermsAcceptance.objects.filter(school_id=school_id).select_related("terms")
                   .defer("terms__text").order_by("-terms__published_on", "-terms_id", "-accepted_at"))
    accepted = next((row for row in history if current is not None and row.terms_id == current.pk), None)
    return TermsStatus(current=current, accepted=accepted, latest=history[0] if history else None, history=history)


@transaction.atomic
def terms_accept(*, user, school: School, version_id: int, name: str, ip_address: str | None) -> TermsAcceptance:
    """A school admin accepts the current version of the terms for their school. Refused, with
    nothing written, for anyone but one of the school's admins, for a version that is not the current
    one, or without the admin's name. A school that has accepted this version already keeps its
    first acceptance (a double submit, or a second admin): it is returned unchanged."""
    if getattr(user, "role", None) != get_user_model().Role.SCHOOL_ADMIN:
        raise PermissionDenied("Only a school admin accepts the terms for the school.")
    name = " ".join(name.split())
    errors = {}
    if not name:
        errors["name"] = "Give your name: it is recorded as the person who accepted the terms for the school."
    elif len(name) > TermsAcceptance._meta.get_field("user_name").max_length:
        errors["name"] = "Give your name in 200 characters or fewer."
    with schema_context(get_public_schema_name()):
        current = TermsVersion.objects.select_for_update().order_by("-published_on", "-id").first()
        if current is None or current.pk != version_id:
            errors["version"] = ("These are not the current terms: reload the page and read the current version "
                                 "before accepting.")
        if errors:
            raise ValidationError(errors)
        existing = TermsAcceptance.objects.filter(school=school, terms=current).first()
        if existing is not None:
            return existing
        acceptance = TermsAcceptance(school=school, terms=current, user_id=user.pk, user_name=name,
                                     user_email=getattr(user, "email", "") or "", accepted_at=clock.now(),
                                     ip_address=ip_address or None)
        try:
            with transaction.atomic():
                acceptance.save()
        except IntegrityError:  # the same acceptance committed by a concurrent request meanwhile
            return TermsAcceptance.objects.get(school=school, terms=current)
        change_log_record(actor=Actor.school_user(user, school.schema_name), instance=acceptance, action=Action.CREATE,
                          fields=["school", "terms", "user_id", "user_name", "user_email", "accepted_at", "ip_address"])
    return acceptance


def terms_accepted_versions(schools: QuerySet[School]) -> dict[int, TermsAcceptance]:
    """For each of ``schools``, its acceptance of the latest version it accepted (absent: none)."""
    latest: dict[int, TermsAcceptance] = {}
    rows = (TermsAcceptance.objects.filter(school__in=schools).select_related("terms").defer("terms__text")
            .order_by("school_id", "-terms__published_on", "-terms_id"))
    for row in rows:
        latest.setdefault(row.school_id, row)
    return latest


def schools_without_current_terms() -> QuerySet[School]:
    """The schools still served (not cancelled, data not destroyed) that have not accepted the
    current version: their admins are sent to the terms at their next page."""
    current = terms_current()
    if current is None:
        return School.objects.none()
    return (School.objects.filter(schema_dropped_at__isnull=True).exclude(status=School.Status.CANCELLED)
            .exclude(terms_acceptances__terms=current).order_by("name", "pk"))
