"""System check: every field of every model is classified in the personal-data registry.

It runs with every manage.py command and the test suite, so a model that gains an unclassified
field fails CI until someone decides what the field holds and how long it is kept."""

from __future__ import annotations

from django.apps import apps
from django.core import checks

from shared.privacy.retention.registry import CLASSIFIED_EXTRA_LABELS, CLASSIFIED_MODULE_PREFIXES, REGISTRY


def classified_models():
    return [model for model in apps.get_models()
            if model.__module__.startswith(CLASSIFIED_MODULE_PREFIXES) or model._meta.label in CLASSIFIED_EXTRA_LABELS]


def model_field_names(model) -> set[str]:
    names = {field.name for field in model._meta.concrete_fields if not (field.primary_key and field.auto_created)}
    names |= {field.name for field in model._meta.many_to_many}
    names.discard("pk")
    if model._meta.pk is not None and model._meta.pk.auto_created:
        names.discard(model._meta.pk.name)
    return names


@checks.register(checks.Tags.models)
def personal_data_registry_check(app_configs=None, **kwargs):
    errors = []
    for model in classified_models():
        label = model._meta.label
        policy = REGISTRY.get(label)
        if policy is None:
            errors.append(checks.Error(f"{label} is not in the personal-data registry",
                                       hint="Add it to shared/privacy/retention/registry.py with its category and fields.",
                                       obj=model, id="privacy.E001"))
            continue
        names = model_field_names(model)
        for name in sorted(names - policy.fields):
            errors.append(checks.Error(f"{label}.{name} has no classification in the personal-data registry",
                                       hint="Mark it personal or other in shared/privacy/retention/registry.py.",
                                       obj=model, id="privacy.E002"))
        for name in sorted(policy.fields - names):
            errors.append(checks.Error(f"the personal-data registry names {label}.{name}, which does not exist",
                                       obj=model, id="privacy.E003"))
        for name in sorted(policy.personal & policy.other):
            errors.append(checks.Error(f"{label}.{name} is classified both personal and other", obj=model,
                                       id="privacy.E004"))
    return errors
