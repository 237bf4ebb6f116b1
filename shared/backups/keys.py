"""Each school's backup data key: made on its first backup, wrapped by the master key, rewrapped
after a rotation, and destroyed with the school's schema so that every backup of it becomes
unreadable."""

from __future__ import annotations

import structlog
from django.db import transaction

from shared import clock
from shared.backups import crypto
from shared.backups.crypto import BackupError
from shared.backups.models import SchoolDataKey
from shared.schools.models import School

log = structlog.get_logger(__name__)

RETENTION = "retention"


class BackupRefused(BackupError):
    """The backup or restore asked for must not happen (a dropped school, another school's file)."""


class BackupKeyDestroyed(BackupError):
    """The backup was encrypted with a data key that has since been destroyed."""


# --- Data keys -------------------------------------------------------------------------------------------


def data_key_for_backup(*, school: School) -> tuple[SchoolDataKey, bytes]:
    """The school's live data key (made on its first backup) and the key itself, unwrapped. A key
    still wrapped by a retired master key is rewrapped by the current one on the way."""
    crypto.master_keys()  # a missing master key is reported before anything is written
    with transaction.atomic():
        # Retention takes the same row lock to drop the schema and destroy the key: no key is made
        # for a school whose schema has gone.
        locked = School.objects.select_for_update().get(pk=school.pk)
        if locked.schema_dropped_at is not None:
            raise BackupRefused(f"school {school.pk}'s schema was dropped by retention on "
                                f"{locked.schema_dropped_at:%d %B %Y}: there is nothing to back up")
        row = SchoolDataKey.objects.filter(school=locked, destroyed_at=None).first()
        if row is None:
            data_key = crypto.data_key_new()
            key_id, wrapped = crypto.data_key_wrap(data_key, school_id=locked.pk)
            row = SchoolDataKey.objects.create(school=locked, wrapped_key=wrapped, master_key_id=key_id)
            log.info("backup.data_key_created", school_id=locked.pk, data_key_id=row.pk, master_key_id=key_id)
            return row, data_key
        data_key = crypto.data_key_unwrap(row.wrapped_key, school_id=locked.pk, key_id=row.master_key_id)
        _rewrap_if_retired(row, data_key)
        return row, data_key


def _rewrap_if_retired(row: SchoolDataKey, data_key: bytes) -> bool:
    current_id, _ = crypto.master_keys()
    if row.master_key_id == current_id:
        return False
    old_id = row.master_key_id
    row.master_key_id, row.wrapped_key = crypto.data_key_wrap(data_key, school_id=row.school_id)
    row.save(update_fields=["master_key_id", "wrapped_key"])
    log.info("backup.data_key_rewrapped", school_id=row.school_id, data_key_id=row.pk, old_master_key_id=old_id,
             master_key_id=row.master_key_id)
    return True


def data_keys_rewrap() -> int:
    """Rewrap every live data key still wrapped by a retired master key with the current one (after
    a rotation; then the retired key can be thrown away). Returns how many were rewrapped."""
    current_id, _ = crypto.master_keys()
    rewrapped = 0
    for pk in SchoolDataKey.objects.filter(destroyed_at=None).exclude(master_key_id=current_id).values_list("pk", flat=True):
        with transaction.atomic():
            row = SchoolDataKey.objects.select_for_update().get(pk=pk)
            if row.destroyed_at is None:
                data_key = crypto.data_key_unwrap(row.wrapped_key, school_id=row.school_id, key_id=row.master_key_id)
                rewrapped += _rewrap_if_retired(row, data_key)
    return rewrapped


def data_keys_destroy(*, school: School, by: str = RETENTION) -> int:
    """Destroy every data key of the school: the wrapped key material is deleted and the rows say
    when and by what, so every backup of the school becomes unreadable. Runs in the caller's
    transaction (retention's, with the DROP SCHEMA). Returns how many keys were destroyed."""
    destroyed = SchoolDataKey.objects.filter(school=school, destroyed_at=None).update(
        wrapped_key=None, destroyed_at=clock.now(), destroyed_by=by)
    log.info("backup.data_keys_destroyed", school_id=school.pk, keys=destroyed, by=by)
    return destroyed
