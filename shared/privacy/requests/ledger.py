"""The erasure ledger: what was erased in a school, kept in public so that a restore of the
school's schema from a backup (or a later import from the MIS) cannot bring an erased person back.
The school's erasure writes it (``tenants.rights.erasure``), the importer reads it, and a restore
replays it (``orchestration.erasure_replay``).

Entries hold ids and a keyed digest of the Xporter id, never a name: the digest lets the importer
and the replay recognise the person again without the ledger identifying them to anyone else."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

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
