"""The vendor's own records about a person, found by their email address: client contacts and
log-in accounts, marketing prospects, operators, the requests they made, and what links to those
(correspondence, complaints, interactions), with the technical records of their public account.
Driven by the registry: every personal email field of a public model is searched."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from shared import clock
from shared.audit.selectors import account_activity
from shared.privacy.exports.records import export_zip, records_about, registered_models
from shared.privacy.retention.registry import policy_for


def _public_models() -> list[type[models.Model]]:
    tenant_only = set(settings.TENANT_APPS) - set(settings.SHARED_APPS)
    return [m for m in registered_models(settings.SHARED_APPS) if m._meta.app_config.name not in tenant_only]


def vendor_people(email: str) -> list[models.Model]:
    """Every public record whose personal email field holds ``email`` (case-insensitive)."""
    email = email.strip()
    if not email:
        return []
    found = []
    for model in _public_models():
        policy = policy_for(model)
        for field in model._meta.concrete_fields:
            if isinstance(field, models.EmailField) and field.name in policy.personal:
                found += list(model.objects.filter(**{f"{field.name}__iexact": email}))
    return found


def vendor_subject_records(email: str) -> dict[str, list[dict]]:
    people = vendor_people(email)
    records = records_about(people, _public_models()) if people else {}
    accounts = [p.pk for p in people if p._meta.label == settings.AUTH_USER_MODEL]
    return records | account_activity(schema_name="public", user_ids=accounts)


def vendor_subject_export(email: str) -> bytes:
    generated = clock.now().isoformat()
    document = {"controller": "the platform's provider", "generated_at": generated, "searched_for": email.strip(),
                "records": vendor_subject_records(email)}
    return export_zip(document, (
        f"Personal data the platform's provider holds as controller about {email.strip()}, generated {generated}.\n"
        "Data a school holds about pupils, parents and its users is that school's: ask the school.\n"))
