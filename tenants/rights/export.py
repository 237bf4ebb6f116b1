"""Access and portability exports in a school, driven by the personal-data registry: everything
held about one person in the school's schema (their own record, their site account, and every
registered record that names them) plus the vendor's technical records of their account (visits,
changes they made), as ``export.json`` and one CSV per kind of record, in one zip."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from shared import clock
from shared.privacy.subject_export import export_zip, json_value, records_about, registered_models
from shared.technical.models import ChangeLogEntry
from shared.technical.services import VISIT_TABLE


def _account(subject):
    return subject if subject._meta.label == settings.AUTH_USER_MODEL else getattr(subject, "user", None)


def subject_records(subject) -> dict[str, list[dict]]:
    """Every registered record about ``subject`` (a Pupil, ParentCarer or User) in the current
    school schema, by model label."""
    account = _account(subject)
    people = [subject] + ([account] if account is not None and account is not subject else [])
    return records_about(people, registered_models(settings.TENANT_APPS))


def technical_records(schema_name: str, user_ids: list[int]) -> dict[str, list[dict]]:
    """The vendor's technical records of accounts in one schema: their visits and the changes they made."""
    if not user_ids:
        return {"technical.Visit": [], "technical.ChangeLogEntry": []}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT occurred_at, host, path, method, status, host(ip), user_id FROM public.{VISIT_TABLE} "
                       "WHERE schema_name = %s AND user_id = ANY(%s) ORDER BY occurred_at", [schema_name, user_ids])
        visits = [dict(zip(["occurred_at", "host", "path", "method", "status", "ip", "user_id"], row))
                  for row in cursor.fetchall()]
    changes = list(ChangeLogEntry.objects.filter(actor_schema=schema_name, actor_id__in=user_ids).order_by("occurred_at")
                   .values("occurred_at", "actor_id", "object_type", "object_id", "action", "fields"))
    return {"technical.Visit": [{k: json_value(v) for k, v in row.items()} for row in visits],
            "technical.ChangeLogEntry": [{k: json_value(v) for k, v in row.items()} for row in changes]}


def subject_export(subject, *, school_name: str) -> bytes:
    account = _account(subject)
    records = subject_records(subject) | technical_records(connection.schema_name, [account.pk] if account else [])
    generated = clock.now().isoformat()
    document = {"school": school_name, "generated_at": generated,
                "subject": {"type": subject._meta.label, "id": subject.pk}, "records": records}
    return export_zip(document, (
        f"Personal data held by {school_name} on the pupil-tracking platform about one person, generated {generated}.\n"
        "export.json holds every record; each CSV holds one kind of record (the same data, for spreadsheets). "
        "Technical records (visits, changes made) are the platform's.\n"))
