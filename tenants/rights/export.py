"""Access and portability exports, driven by the personal-data registry.

Everything held about one person in the school's schema (their own record, their site account,
and every registered record that names them) plus the vendor's technical records of their account
(visits, changes they made), as ``export.json`` and one CSV per kind of record, in one zip.

A record reached through a field that says whom it is about (``about`` in the registry: a
result's ``pupil``) is exported whole; one reached through another personal link (a result's
``recorded_by``, a group's ``pupils``) shows only that link and its non-personal fields. A
many-to-many link lists only the person themselves, so a group never lists its other pupils."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import zipfile

from django.apps import apps
from django.conf import settings
from django.db import connection, models

from shared import clock
from shared.privacy.registry import REGISTRY, policy_for
from shared.technical.models import ChangeLogEntry
from shared.technical.services import VISIT_TABLE

PEOPLE = frozenset({"pupils.Pupil", "pupils.ParentCarer", settings.AUTH_USER_MODEL})


def _tenant_models() -> list[type[models.Model]]:
    found = []
    for name in settings.TENANT_APPS:
        config = next((c for c in apps.get_app_configs() if c.name == name), None)
        if config is not None:
            found += [m for m in config.get_models() if m._meta.label in REGISTRY]
    return found


def _json_value(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    return value


def _row(obj, names: frozenset[str], people: dict[type, int]) -> dict:
    row = {"id": obj.pk}
    for field in obj._meta.get_fields():
        if field.name not in names or field.auto_created and not field.concrete:
            continue
        if field.many_to_many:
            own = people.get(field.related_model)
            row[field.name] = [own] if own is not None else sorted(getattr(obj, field.name).values_list("pk", flat=True))
        elif field.is_relation:
            row[field.name] = getattr(obj, field.attname)
            if field.related_model._meta.label not in PEOPLE and row[field.name] is not None:
                row[f"{field.name}_label"] = str(getattr(obj, field.name))
        else:
            row[field.name] = _json_value(field.value_from_object(obj))
    return row


def subject_records(subject) -> dict[str, list[dict]]:
    """Every registered record about ``subject`` (a Pupil, ParentCarer or User) in the current
    school schema, by model label."""
    account = subject if subject._meta.label == settings.AUTH_USER_MODEL else getattr(subject, "user", None)
    people = {type(subject): subject.pk} | ({type(account): account.pk} if account is not None else {})
    records: dict[str, dict[int, dict]] = {}

    def add(obj, names):
        rows = records.setdefault(obj._meta.label, {})
        rows[obj.pk] = {**rows.get(obj.pk, {}), **_row(obj, names, people)}

    for own in ([subject] + ([account] if account is not None and account is not subject else [])):
        policy = policy_for(type(own))
        add(own, policy.fields - policy.withheld)
    for model in _tenant_models():
        policy = policy_for(model)
        labelled = [f.name for f in model._meta.concrete_fields
                    if f.is_relation and f.name in policy.fields and f.related_model._meta.label not in PEOPLE]
        for field in model._meta.get_fields():
            if field.name not in policy.personal or not (field.concrete or field.many_to_many) or not field.is_relation:
                continue
            person = people.get(field.related_model)
            if person is None or model is type(subject) or (account is not None and model is type(account)):
                continue
            names = (policy.fields if field.name in policy.about else policy.other | {field.name}) - policy.withheld
            for obj in model.objects.filter(**{field.name: person}).select_related(*labelled).order_by("pk"):
                add(obj, names)
    return {label: list(rows.values()) for label, rows in sorted(records.items())}


def technical_records(schema_name: str, user_id: int | None) -> dict[str, list[dict]]:
    """The vendor's technical records of a school account: its visits and the changes it made."""
    if user_id is None:
        return {"technical.Visit": [], "technical.ChangeLogEntry": []}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT occurred_at, host, path, method, status, host(ip) FROM public.{VISIT_TABLE} "
                       "WHERE schema_name = %s AND user_id = %s ORDER BY occurred_at", [schema_name, user_id])
        visits = [dict(zip(["occurred_at", "host", "path", "method", "status", "ip"], row)) for row in cursor.fetchall()]
    changes = list(ChangeLogEntry.objects.filter(actor_schema=schema_name, actor_id=user_id).order_by("occurred_at")
                   .values("occurred_at", "object_type", "object_id", "action", "fields"))
    return {"technical.Visit": [{k: _json_value(v) for k, v in v_.items()} for v_ in visits],
            "technical.ChangeLogEntry": [{k: _json_value(v) for k, v in c.items()} for c in changes]}


def subject_export(subject, *, school_name: str) -> bytes:
    """The zip: ``export.json`` with everything, a CSV per kind of record, and a README."""
    account = subject if subject._meta.label == settings.AUTH_USER_MODEL else getattr(subject, "user", None)
    records = subject_records(subject) | technical_records(connection.schema_name, account.pk if account else None)
    document = {"school": school_name, "generated_at": clock.now().isoformat(),
                "subject": {"type": subject._meta.label, "id": subject.pk}, "records": records}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.json", json.dumps(document, indent=2, default=str))
        for label, rows in records.items():
            if not rows:
                continue
            out = io.StringIO()
            columns = list(dict.fromkeys(key for row in rows for key in row))
            writer = csv.DictWriter(out, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: " ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()})
            archive.writestr(f"{label.replace('.', '_').lower()}.csv", out.getvalue())
        archive.writestr("README.txt", (
            f"Personal data held by {school_name} on the pupil-tracking platform about one person, "
            f"generated {document['generated_at']}.\nexport.json holds every record; each CSV holds one kind of record "
            "(the same data, for spreadsheets). Technical records (visits, changes made) are the platform's.\n"))
    return buffer.getvalue()
