"""Erasing again, after a restore, everyone the erasure ledger names: the ledger is in ``public``,
the records in the school's schema."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction

from shared.audit.services import account_activity_anonymise
from shared.privacy.models import ErasureLedgerEntry
from shared.privacy.requests.ledger import xporter_digest
from shared.schools.models import School


def ledger_replay(school: School) -> dict[str, int]:
    """Erase again, in the school's schema (the current connection's), every record the ledger
    names: by id, and by Xporter id for a record re-created since. Returns rows removed per model."""
    assert connection.schema_name == school.schema_name, "replay runs inside the school's schema"
    removed: dict[str, int] = {}
    digests: dict[str, dict[str, list[int]]] = {}  # model -> digest of each row's Xporter id -> pks
    with transaction.atomic():
        for entry in ErasureLedgerEntry.objects.filter(school=school):
            model = apps.get_model(entry.model)
            pks = [entry.object_id]
            if entry.xporter_digest and hasattr(model, "xporter_id"):
                if entry.model not in digests:
                    digests[entry.model] = {}
                    for pk, xid in model.objects.exclude(xporter_id=None).values_list("pk", "xporter_id"):
                        digests[entry.model].setdefault(xporter_digest(school.schema_name, xid), []).append(pk)
                pks += digests[entry.model].get(entry.xporter_digest, [])
            count = model.objects.filter(pk__in=pks).delete()[1].get(entry.model, 0)
            if count:
                removed[entry.model] = removed.get(entry.model, 0) + count
            if entry.model == settings.AUTH_USER_MODEL:
                account_activity_anonymise(schema_name=school.schema_name, user_id=entry.object_id)
    return removed
