"""The school's Xporter secret is sealed at rest: the database holds no plain text, a rotated key
still opens what the old one sealed (and saving reseals under the new one), a key that opens
nothing fails with a clear message, and neither the school's export nor the logs carry it."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import structlog
from cryptography.fernet import Fernet
from django.db import connection
from django_tenants.utils import schema_context

from orchestration.school_export import school_export
from shared.changes import Actor
from tenants.xporter import services
from tenants.xporter.client import XporterError
from tenants.xporter.models import ImportRun, XporterConnection

pytestmark = pytest.mark.django_db

SECRET = "6f1c2b9e-4d3a-4c8f-9b1e-secret-of-oakfield"


def stored_rows() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(json_agg(row_to_json(c))::text, '') FROM xporter_xporterconnection c")
        return cursor.fetchone()[0]


def test_the_database_holds_no_plain_secret(oakfield):
    with schema_context(oakfield.school.schema_name):
        XporterConnection.objects.update_or_create(defaults={"estab": "3312001", "password": SECRET})

        rows = stored_rows()

        assert "secret_sealed" in rows and SECRET not in rows and "password" not in json.loads(rows)[0]
        assert services.client_for(XporterConnection.objects.get())._credentials["password"] == SECRET


def test_a_retired_key_in_second_place_still_opens_and_saving_reseals_with_the_first(oakfield, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.XPORTER_SECRET_KEYS = [old]
    with schema_context(oakfield.school.schema_name):
        XporterConnection.objects.update_or_create(defaults={"estab": "3312001", "password": SECRET})
        sealed_by_old = XporterConnection.objects.get().secret_sealed

        settings.XPORTER_SECRET_KEYS = [new, old]  # rotated: the old key kept, second
        assert services.client_for(XporterConnection.objects.get())._credentials["password"] == SECRET
        XporterConnection.objects.get().save()
        resealed = XporterConnection.objects.get().secret_sealed

        settings.XPORTER_SECRET_KEYS = [new]  # the old key thrown away
        assert resealed != sealed_by_old
        assert services.client_for(XporterConnection.objects.get())._credentials["password"] == SECRET


def test_saving_the_sync_position_leaves_the_seal_alone(oakfield):
    with schema_context(oakfield.school.schema_name):
        XporterConnection.objects.update_or_create(defaults={"estab": "3312001", "password": SECRET})
        current = XporterConnection.objects.get()
        sealed = current.secret_sealed
        current.cursors = {"Students": "abc"}
        current.save(update_fields=["cursors"])

        assert XporterConnection.objects.get().secret_sealed == sealed


def test_a_key_that_opens_nothing_fails_clearly_and_the_import_says_why(oakfield, settings):
    with schema_context(oakfield.school.schema_name):
        XporterConnection.objects.update_or_create(defaults={"estab": "3312001", "password": SECRET, "enabled": True})
        settings.XPORTER_SECRET_KEYS = [Fernet.generate_key().decode()]

        with pytest.raises(XporterError, match="cannot be read with the keys in XPORTER_SECRET_KEYS"):
            services.client_for(XporterConnection.objects.get())
        with pytest.raises(XporterError):
            services.xporter_sync()

        run, current = ImportRun.objects.first(), XporterConnection.objects.get()
        assert run.status == ImportRun.Status.FAILED and "XPORTER_SECRET_KEYS" in run.error
        assert current.last_failure_at == run.finished_at and current.last_failure_reason == run.error


def test_the_schools_export_leaves_the_sealed_secret_out(oakfield):
    with schema_context(oakfield.school.schema_name):
        XporterConnection.objects.update_or_create(defaults={"estab": "3312001", "password": SECRET})
        sealed = XporterConnection.objects.get().secret_sealed

    archive = zipfile.ZipFile(io.BytesIO(school_export(actor=Actor.system(), school=oakfield.school)))
    table = archive.read("xporter_xporterconnection.csv").decode()

    assert "3312001" in table and "secret_sealed" not in table.splitlines()[0]
    assert sealed not in table and SECRET not in table


def test_neither_the_repr_nor_a_failed_sync_log_shows_the_secret(oakfield, settings):
    with schema_context(oakfield.school.schema_name):
        XporterConnection.objects.update_or_create(defaults={"estab": "3312001", "password": SECRET, "enabled": True,
                                                             "base_url": "http://127.0.0.1:9"})
        current = XporterConnection.objects.get()
        with structlog.testing.capture_logs() as events, pytest.raises(XporterError):
            services.xporter_sync(client=services.client_for(current).__class__(
                base_url="http://127.0.0.1:9", estab="3312001", relying_party="pt", password=SECRET, retries=0))

        assert SECRET not in repr(current) and current.secret_sealed not in repr(current)
        assert events and SECRET not in repr(events) and current.secret_sealed not in repr(events)
        assert SECRET not in ImportRun.objects.first().error


def test_the_migration_seals_a_secret_stored_in_plain_text(oakfield):
    from django.db.migrations.executor import MigrationExecutor

    with schema_context(oakfield.school.schema_name):
        XporterConnection.objects.all().delete()
        executor = MigrationExecutor(connection)
        executor.migrate([("xporter", "0002_cursors_per_changeset")])
        old_state = executor.loader.project_state(("xporter", "0002_cursors_per_changeset")).apps
        old_state.get_model("xporter", "XporterConnection").objects.create(estab="3312001", relying_party="pt",
                                                                          password=SECRET)

        executor = MigrationExecutor(connection)
        executor.migrate([("xporter", "0003_secret_sealed")])

        assert SECRET not in stored_rows()
        assert services.client_for(XporterConnection.objects.get())._credentials["password"] == SECRET
