"""A school schema made before school users had a second factor gains its tables on migration."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import schema_context

pytestmark = pytest.mark.django_db
migration = importlib.import_module("tenants.users.migrations.0003_second_factor_tables")


def columns(table: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("""SELECT column_name, data_type FROM information_schema.columns
                          WHERE table_schema = current_schema() AND table_name = %s
                            AND (column_name = 'id' OR column_name LIKE '%%\\_id') ORDER BY 1""", [table])
        return cursor.fetchall()


def test_an_older_school_schema_gets_the_authenticator_table_64_bit(oakfield):
    # given a school schema as made before: otp_totp recorded as applied, but without its table
    with schema_context(oakfield.school.schema_name):
        with connection.cursor() as cursor:
            cursor.execute('DROP TABLE "otp_totp_totpdevice"')
        assert columns("otp_totp_totpdevice") == []
        apps = MigrationExecutor(connection).loader.project_state(("users", "0003_second_factor_tables")).apps

        # when the migration runs (twice: it is safe to repeat)
        with connection.schema_editor() as editor:
            migration.create_missing_and_widen(apps, editor)
        with connection.schema_editor() as editor:
            migration.create_missing_and_widen(apps, editor)

        # then the table is there, with 64-bit ids, and public's is untouched
        assert columns("otp_totp_totpdevice") == [("id", "bigint"), ("user_id", "bigint")]
    assert columns("otp_totp_totpdevice") == [("id", "bigint"), ("user_id", "bigint")]
