"""Erasure: delete the person's records in the school's schema (their dependent records go with
them), delete their site account, anonymise the vendor's technical records of that account, and
write the erasure ledger first, so a restore followed by ``erasure_replay`` erases them again; the
mail log of what was sent to them goes too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from shared.audit.services import account_activity_anonymise, change_log_record
from shared.changes import Action, Actor
from shared.mail.services import messages_to_address_erase
from shared.privacy.requests.ledger import ledger_record
from tenants.pupils.models import ParentCarer, Pupil
from tenants.users.models import User

if TYPE_CHECKING:
    from shared.schools.models import School


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
        change_log_record(actor=actor, instance=record, action=Action.DELETE)
    counts: dict[str, int] = {}
    if account is not None:
        counts["technical"] = account_activity_anonymise(schema_name=school.schema_name, user_id=account.pk)
    addresses = {record.email for record in records if getattr(record, "email", "")}
    for record in records:
        for label, n in record.delete()[1].items():
            counts[label] = counts.get(label, 0) + n
    mailed = sum(messages_to_address_erase(address) for address in addresses)
    if mailed:
        counts["mail.OutgoingMessage"] = mailed
    return counts
