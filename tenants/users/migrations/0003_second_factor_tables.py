"""School users' second factor: authenticator apps (otp_totp) and recovery codes (otp_static) now
live in each school's schema as well as in public.

A school schema made before then has otp_totp's migrations recorded as applied (django-tenants
records every app's migrations in every schema) but none of its tables, so they are made here
when missing. Then every id is widened to 64 bits, as 0002 does for Django's own tables."""

import importlib

from django.db import migrations

_ids_64_bit = importlib.import_module("tenants.users.migrations.0002_ids_64_bit")

TABLE_EXISTS = """
    SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = %s"""


def create_missing_and_widen(apps, schema_editor):
    for app_label, model_name in (("otp_totp", "TOTPDevice"),):
        model = apps.get_model(app_label, model_name)
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(TABLE_EXISTS, [model._meta.db_table])
            exists = cursor.fetchone() is not None
        if not exists:
            schema_editor.create_model(model)
    _ids_64_bit.widen(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0002_ids_64_bit"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(create_missing_and_widen, migrations.RunPython.noop)]
