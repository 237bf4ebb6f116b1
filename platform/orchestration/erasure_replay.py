"""Erasing again, after a restore, everyone the erasure ledger names: the ledger is in ``public``,
the records in the school's schema (``ledger_replay``) or, for the vendor's own records, in public
itself (``public_ledger_replay``), where a restore brings back the ledger as it was too: so the
public replay first puts back every entry of the ledger's copy outside the database."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction

from shared.audit.services import account_activity_anonymise
from shared.privacy.models import ErasureLedgerEntry
from shared.privacy.requests.ledger import PUBLIC, ledger_mirror_entries, xporter_digest
from shared.privacy.requests.vendor_tools import attachment_files_delete, operator_traces_clear, public_delete
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


def public_ledger_replay() -> dict[str, int]:
    """Erase again, in public, every record of the vendor's own that the ledger or its copy outside
    the database (``ERASURE_LEDGER_MIRROR``) names: entries missing from a restored ledger are put
    back first; a correspondence's attachment files go before its row; an operator's account has its
    technical records anonymised and its id cleared from what it recorded. Returns rows removed per
    model (``ErasureLedgerEntry`` counts the entries put back)."""
    assert connection.schema_name == PUBLIC, "the public replay runs in public"
    removed: dict[str, int] = {}
    with transaction.atomic():
        for item in ledger_mirror_entries():
            _, created = ErasureLedgerEntry.objects.get_or_create(
                school=None, schema_name=PUBLIC, model=item["model"], object_id=item["object_id"],
                defaults={"request_ref": item["request_ref"]})
            if created:
                removed["privacy.ErasureLedgerEntry"] = removed.get("privacy.ErasureLedgerEntry", 0) + 1
        for entry in ErasureLedgerEntry.objects.filter(school=None, schema_name=PUBLIC):
            try:
                model = apps.get_model(entry.model)
            except (LookupError, ValueError):
                continue  # a model since removed holds nothing to erase
            if entry.model == "clients.Correspondence":
                attachment_files_delete([entry.object_id])
            record = model.objects.filter(pk=entry.object_id).first()
            if record is not None:
                for label, count in public_delete(record).items():
                    if count:
                        removed[label] = removed.get(label, 0) + count
            if entry.model == settings.AUTH_USER_MODEL:
                account_activity_anonymise(schema_name=PUBLIC, user_id=entry.object_id)
                operator_traces_clear(actor=None, user_id=entry.object_id)
    return removed
