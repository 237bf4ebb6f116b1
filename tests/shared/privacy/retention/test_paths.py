"""The deletion-path check (privacy.E005): every registered model holding personal data has a way
out (a retention unit, a scheduled purge) or a documented exemption; a model added without one
fails the check."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import models
from django.test.utils import isolate_apps

from orchestration.retention.delete import DELETERS, DELETION_PATHS
from shared.privacy.retention import paths
from shared.privacy.retention.paths import EXEMPT, deletion_path, deletion_path_check
from shared.privacy.retention.registry import REGISTRY, Category, _policy
from shared.privacy.retention.rules import PERIODS


def test_every_model_holding_personal_data_has_a_deletion_path_today():
    assert deletion_path_check() == []
    call_command("check")  # the system check runs with every command, and passes


def test_each_declared_path_is_a_unit_kind_with_a_deleter_and_a_period_naming_registered_models():
    assert set(DELETION_PATHS) == set(DELETERS) and set(DELETERS) <= set(PERIODS)
    assert {label for labels in DELETION_PATHS.values() for label in labels} <= set(REGISTRY)
    assert set(EXEMPT) <= set(REGISTRY) and all(reason.strip() for reason in EXEMPT.values())


@pytest.fixture
def throwaway(monkeypatch):
    """A model added to an installed app (clients) and registered with a personal field, nothing else."""
    with isolate_apps("shared.clients"):
        class Referee(models.Model):
            full_name = models.CharField(max_length=100)

            class Meta:
                app_label = "clients"

        label = Referee._meta.label
        monkeypatch.setitem(REGISTRY, label, _policy(Category.CONTRACT, personal="full_name"))
        monkeypatch.setattr(paths, "PATHS", {key: set(value) for key, value in paths.PATHS.items()})
        yield label


def test_a_model_added_without_a_deleter_fails_the_check(throwaway):
    errors = deletion_path_check()

    assert [(error.id, error.msg) for error in errors] == [
        ("privacy.E005", f"{throwaway} holds personal data (full_name) in the contract category but nothing deletes it")]


def test_the_same_model_with_a_deleter_passes(throwaway):
    deletion_path(throwaway, "retention unit referee")

    assert deletion_path_check() == []


def test_an_exemption_with_its_reason_passes(throwaway, monkeypatch):
    monkeypatch.setitem(EXEMPT, throwaway, "kept for a test, with its reason")

    assert deletion_path_check() == []


def test_a_model_with_no_personal_data_needs_no_path(monkeypatch):
    monkeypatch.setitem(REGISTRY, "clients.Tally", _policy(Category.DEFAULT, other="count"))

    assert deletion_path_check() == []
