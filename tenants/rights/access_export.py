"""Access and portability exports in a school, driven by the personal-data registry: everything
held about one person in the school's schema (their own record, their site account, and every
registered record that names them) plus the vendor's technical records of their account (visits,
changes they made), as ``export.json`` and one CSV per kind of record, in one zip."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from shared import clock
from shared.audit.selectors import account_activity
from shared.privacy.exports.records import export_zip, records_about, registered_models


def _account(subject):
    return subject if subject._meta.label == settings.AUTH_USER_MODEL else getattr(subject, "user", None)


def subject_records(subject) -> dict[str, list[dict]]:
    """Every registered record about ``subject`` (a Pupil, ParentCarer or User) in the current
    school schema, by model label."""
    account = _account(subject)
    people = [subject] + ([account] if account is not None and account is not subject else [])
    return records_about(people, registered_models(settings.TENANT_APPS))


def subject_export(subject, *, school_name: str) -> bytes:
    account = _account(subject)
    records = subject_records(subject) | account_activity(schema_name=connection.schema_name,
                                                          user_ids=[account.pk] if account else [])
    generated = clock.now().isoformat()
    document = {"school": school_name, "generated_at": generated,
                "subject": {"type": subject._meta.label, "id": subject.pk}, "records": records}
    return export_zip(document, (
        f"Personal data held by {school_name} on the pupil-tracking platform about one person, generated {generated}.\n"
        "export.json holds every record; each CSV holds one kind of record (the same data, for spreadsheets). "
        "Technical records (visits, changes made) are the platform's.\n"))
