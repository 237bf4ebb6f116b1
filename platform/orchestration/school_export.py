"""Exporting a school's own data for return to it (after cancellation, before its schema goes):
every table of the school apps, one CSV file each, in a zip, with a manifest. The school is the
controller of this data; the vendor hands it back, and the export is change-logged."""

from __future__ import annotations

import io
import json
import zipfile

from django.apps import apps
from django.conf import settings
from django_tenants.utils import schema_context

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.csvfiles import csv_writer
from shared.schools.models import School

# Sign-in secrets (authenticator keys, recovery codes) are of no use to the school and must not travel.
_NOT_EXPORTED_APPS = frozenset({"django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static"})


def school_export_models():
    return [model for config in apps.get_app_configs()
            if config.name in settings.TENANT_APPS and config.name not in _NOT_EXPORTED_APPS
            for model in config.get_models(include_auto_created=True)]


def school_export(*, actor: Actor, school: School) -> bytes:
    """The school's data as a zip of CSV files (one per table) and a manifest.json."""
    if school.schema_dropped_at is not None:
        raise ValueError("this school's data has been destroyed; there is nothing to export")
    buffer = io.BytesIO()
    manifest = {"school": school.name, "exported_at": clock.now().isoformat(), "tables": {}}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, schema_context(school.schema_name):
        for model in school_export_models():
            columns = [field.column for field in model._meta.concrete_fields]
            if model._meta.label == "users.User":
                columns.remove("password")  # a hash is of no use to the school and should not travel
            if model._meta.label == "xporter.XporterConnection":
                columns.remove("secret_sealed")  # the Xporter secret, even sealed, must not travel
            rows = model.objects.values_list(*[f.attname for f in model._meta.concrete_fields if f.column in columns])
            text = io.StringIO()
            writer = csv_writer(text)
            writer.writerow(columns)
            count = 0
            for row in rows:  # (not .iterator(): a server-side cursor per chunk is far slower here)
                writer.writerow(row)
                count += 1
            archive.writestr(f"{model._meta.db_table}.csv", text.getvalue())
            manifest["tables"][model._meta.db_table] = count
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    change_log_record(actor=actor, instance=school, action=Action.EXPORT, fields=[])
    return buffer.getvalue()
