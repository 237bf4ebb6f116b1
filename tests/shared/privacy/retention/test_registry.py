"""Every field is classified; an unclassified one fails the system check (and so CI)."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.management import call_command

from shared.privacy.retention import checks, registry
from shared.privacy.retention.registry import RULES, Category


def test_the_codebase_passes_the_registry_check():
    assert checks.personal_data_registry_check() == []
    call_command("check", "--fail-level", "ERROR")


def test_a_field_nobody_classified_fails_the_check(monkeypatch):
    policy = registry.REGISTRY["pupils.Pupil"]
    monkeypatch.setitem(registry.REGISTRY, "pupils.Pupil",
                        dataclasses.replace(policy, personal=policy.personal - {"upn"}))

    errors = checks.personal_data_registry_check()

    assert [(e.id, e.msg) for e in errors] == [
        ("privacy.E002", "pupils.Pupil.upn has no classification in the personal-data registry")]


def test_a_model_missing_from_the_registry_fails_the_check(monkeypatch):
    monkeypatch.delitem(registry.REGISTRY, "billing.Payment")

    errors = checks.personal_data_registry_check()

    assert [e.id for e in errors] == ["privacy.E001"]


def test_a_registered_field_that_does_not_exist_fails_the_check(monkeypatch):
    policy = registry.REGISTRY["marketing.Prospect"]
    monkeypatch.setitem(registry.REGISTRY, "marketing.Prospect",
                        dataclasses.replace(policy, other=policy.other | {"shoe_size"}))

    assert [e.id for e in checks.personal_data_registry_check()] == ["privacy.E003"]


@pytest.mark.parametrize("category", list(Category))
def test_every_category_has_a_rule_and_a_lawful_basis(category):
    rule = RULES[category]
    assert rule.kept_for and rule.counts_from and rule.lawful_basis and rule.controller in {"vendor", "school"}
