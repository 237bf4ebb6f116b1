"""Everything registered about given people, record by record: the engine behind access and
portability exports, for a school's pupils, parents and users (``tenants.rights.access_export``) and for
the vendor's own contacts, prospects and operators (``shared.privacy.exports.vendor``).

A record reached through a field that says whom it is about (``about`` in the registry: a
result's ``pupil``) is exported whole; one reached through another personal link (a result's
``recorded_by``, a group's ``pupils``) shows only that link and its non-personal fields. A
many-to-many link lists only the people themselves, so a group never lists its other pupils."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import zipfile
from collections.abc import Iterable

from django.conf import settings
from django.db import models

from shared.csvfiles import SafeDictWriter
from shared.privacy.retention.registry import REGISTRY, policy_for

PEOPLE = frozenset({"pupils.Pupil", "pupils.ParentCarer", settings.AUTH_USER_MODEL, "clients.Contact",
                    "clients.ClientAccount", "marketing.Prospect"})


def registered_models(app_names: Iterable[str]) -> list[type[models.Model]]:
    from django.apps import apps

    wanted = set(app_names)
    return [m for c in apps.get_app_configs() if c.name in wanted for m in c.get_models() if m._meta.label in REGISTRY]


def json_value(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    return value


def _row(obj, names: frozenset[str], people: dict[type, set[int]]) -> dict:
    row = {"id": obj.pk}
    for field in obj._meta.get_fields():
        if field.name not in names or field.auto_created and not field.concrete:
            continue
        if field.many_to_many:
            own = people.get(field.related_model)
            ids = getattr(obj, field.name).values_list("pk", flat=True)
            row[field.name] = sorted(own & set(ids)) if own is not None else sorted(ids)
        elif field.is_relation:
            row[field.name] = getattr(obj, field.attname)
            if field.related_model._meta.label not in PEOPLE and row[field.name] is not None:
                row[f"{field.name}_label"] = str(getattr(obj, field.name))
        else:
            row[field.name] = json_value(field.value_from_object(obj))
    return row


def records_about(people: Iterable[models.Model], in_models: Iterable[type[models.Model]]) -> dict[str, list[dict]]:
    """The people's own records (whole, less withheld fields) and every record of ``in_models``
    that links to one of them through a personal field, by model label."""
    people = list(people)
    ids: dict[type, set[int]] = {}
    for person in people:
        ids.setdefault(type(person), set()).add(person.pk)
    records: dict[str, dict[int, dict]] = {}

    def add(obj, names):
        rows = records.setdefault(obj._meta.label, {})
        rows[obj.pk] = {**rows.get(obj.pk, {}), **_row(obj, names, ids)}

    for person in people:
        policy = policy_for(type(person))
        add(person, policy.fields - policy.withheld)
    for model in in_models:
        policy = policy_for(model)
        labelled = [f.name for f in model._meta.concrete_fields
                    if f.is_relation and f.name in policy.fields and f.related_model._meta.label not in PEOPLE]
        for field in model._meta.get_fields():
            if field.name not in policy.personal or not field.is_relation or not (field.concrete or field.many_to_many):
                continue
            targets = ids.get(field.related_model)
            if not targets or model in ids:
                continue
            names = (policy.fields if field.name in policy.about else policy.other | {field.name}) - policy.withheld
            for obj in model.objects.filter(**{f"{field.name}__in": targets}).select_related(*labelled).distinct().order_by("pk"):
                add(obj, names)
    return {label: list(rows.values()) for label, rows in sorted(records.items())}


def export_zip(document: dict, readme: str) -> bytes:
    """``export.json`` with the whole document, one CSV per kind of record, and a README."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.json", json.dumps(document, indent=2, default=str))
        for label, rows in document["records"].items():
            if not rows:
                continue
            out = io.StringIO()
            writer = SafeDictWriter(out, fieldnames=list(dict.fromkeys(key for row in rows for key in row)))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: " ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()})
            archive.writestr(f"{label.replace('.', '_').lower()}.csv", out.getvalue())
        archive.writestr("README.txt", readme)
    return buffer.getvalue()
