"""The erasure ledger: what was erased in a school, kept in public so that a restore of the
school's schema from a backup (or a later import from the MIS) cannot bring an erased person back.
The school's erasure writes it (``tenants.rights.erasure``), the importer reads it, and a restore
replays it (``orchestration.erasure_replay``).

Entries hold ids and a keyed digest of the Xporter id, never a name: the digest lets the importer
and the replay recognise the person again without the ledger identifying them to anyone else.

The vendor's own erasures (``shared.privacy.requests.vendor_tools``) are entries with no school and
``schema_name`` "public". A restore of public brings back the ledger as it was at the backup, so each
vendor entry is also appended, once its transaction commits, to a file outside the database
(``ERASURE_LEDGER_MIRROR``, one JSON line of ids per entry); ``erasure_replay --public`` reads both."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

from django.conf import settings
from django.db import transaction

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


PUBLIC = "public"


def ledger_mirror_path() -> Path:
    """The copy of the vendor's ledger kept outside the database: ``ERASURE_LEDGER_MIRROR``, or
    ``erasure-ledger/public.jsonl`` under the vendor's files (backed up apart from the database)."""
    configured = getattr(settings, "ERASURE_LEDGER_MIRROR", None)
    return Path(configured) if configured else Path(settings.VENDOR_FILES_ROOT) / "erasure-ledger" / "public.jsonl"


def _mirror_append(line: dict) -> None:
    path = ledger_mirror_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def vendor_ledger_record(*, instance, request_ref: str = "") -> ErasureLedgerEntry:
    """Record the erasure of one of the vendor's own records (ids only), in the table and, once the
    transaction commits, in the mirror file."""
    entry, created = ErasureLedgerEntry.objects.get_or_create(
        school=None, schema_name=PUBLIC, model=instance._meta.label, object_id=instance.pk,
        defaults={"request_ref": request_ref})
    if created:
        line = {"model": entry.model, "object_id": entry.object_id, "request_ref": entry.request_ref,
                "erased_at": entry.erased_at.isoformat()}
        transaction.on_commit(lambda: _mirror_append(line))
    return entry


def ledger_mirror_entries() -> list[dict]:
    """The mirror's entries; a torn last line (a crash mid-write) is skipped."""
    path = ledger_mirror_path()
    if not path.exists():
        return []
    entries = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(raw)
            entries.append({"model": str(item["model"]), "object_id": int(item["object_id"]),
                            "request_ref": str(item.get("request_ref", ""))[:60], "erased_at": item.get("erased_at")})
        except (ValueError, KeyError, TypeError):
            continue
    return entries
