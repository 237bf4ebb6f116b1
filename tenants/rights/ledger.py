"""The erasure ledger: what was erased in a school, kept in public so that a restore of the
school's schema from a backup (or a later import from the MIS) cannot bring an erased person back.

Entries hold ids and a keyed digest of the Xporter id, never a name: the digest lets the importer
and the replay recognise the person again without the ledger identifying them to anyone else."""

from __future__ import annotations

import hashlib
import hmac

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction

from shared.privacy.models import ErasureLedgerEntry
from shared.schools.models import School


def xporter_digest(schema_name: str, xporter_id: str | None) -> str:
    if not xporter_id:
        return ""
    key = settings.ERASURE_LEDGER_KEY.encode()
    return hmac.new(key, f"{schema_name}:{xporter_id}".encode(), hashlib.sha256).hexdigest()


def ledger_record(*, school: School, instance, request_ref: str = "") -> ErasureLedgerEntry:
    entry, _ = ErasureLedgerEntry.objects.get_or_create(
        school=school, model=instance._meta.label, object_id=instance.pk,
        defaults={"schema_name": school.schema_name, "request_ref": request_ref,
                  "xporter_digest": xporter_digest(school.schema_name, getattr(instance, "xporter_id", None))})
    return entry


def erased_digests(school: School, model_label: str) -> set[str]:
    return set(ErasureLedgerEntry.objects.filter(school=school, model=model_label).exclude(xporter_digest="")
               .values_list("xporter_digest", flat=True))


def ledger_replay(school: School) -> dict[str, int]:
    """Erase again, in the school's schema (the current connection's), every record the ledger
    names: by id, and by Xporter id for a record re-created since. Returns rows removed per model."""
    from tenants.rights.erasure import technical_anonymise

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
                technical_anonymise(school.schema_name, entry.object_id)
    return removed
