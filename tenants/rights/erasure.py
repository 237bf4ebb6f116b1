"""Erasure: delete the person's records in the school's schema (their dependent records go with
them), delete their site account, anonymise the vendor's technical records of that account, and
write the erasure ledger first, so a restore followed by ``erasure_replay`` erases them again."""

from __future__ import annotations

from django.db import connection, transaction

from shared.schools.models import School
from shared.technical.models import ChangeLogEntry
from shared.technical.services import VISIT_TABLE, Actor, change_log_record
from tenants.pupils.models import ParentCarer, Pupil
from tenants.rights.ledger import ledger_record
from tenants.users.models import User


def technical_anonymise(schema_name: str, user_id: int) -> int:
    """The vendor's visit log and change log keep their rows (security, 365 days) without the
    account: no user id, no IP address."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE public.{VISIT_TABLE} SET user_id = NULL, ip = NULL WHERE schema_name = %s AND user_id = %s",
                       [schema_name, user_id])
        visits = cursor.rowcount
    changes = ChangeLogEntry.objects.filter(actor_schema=schema_name, actor_id=user_id).update(actor_id=None)
    return visits + changes


@transaction.atomic
def erase(*, actor: Actor, school: School, subject: Pupil | ParentCarer | User, request_ref: str = "") -> dict[str, int]:
    """Erase a pupil, a parent or carer, or a school user. Returns the rows deleted or anonymised
    per model label."""
    if not isinstance(subject, (Pupil, ParentCarer, User)):
        raise TypeError(f"cannot erase a {type(subject).__name__}")
    account = subject if isinstance(subject, User) else subject.user
    records = [subject] + ([account] if account is not None and account is not subject else [])
    for record in records:
        ledger_record(school=school, instance=record, request_ref=request_ref)
        change_log_record(actor=actor, instance=record, action=ChangeLogEntry.Action.DELETE)
    counts: dict[str, int] = {}
    if account is not None:
        counts["technical"] = technical_anonymise(school.schema_name, account.pk)
    for record in records:
        for label, n in record.delete()[1].items():
            counts[label] = counts.get(label, 0) + n
    return counts
