"""Writing and restoring a school's backup, and the life of its data key.

A backup is ``pg_dump --format=custom --schema=<the school's schema>`` piped straight into the
encryptor: the plaintext dump never touches the disk. A restore pipes the decrypted archive
through ``pg_restore`` (as SQL) into one ``psql`` transaction that first locks the school's row,
checks retention has not dropped it, and drops the schema being replaced, so the school either has
its old schema or the restored one, never half of each; then the erasure ledger and the retention
deletions recorded since are applied again.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_tenants.utils import schema_context

from shared import clock
from shared.backups import crypto
from shared.backups.crypto import BackupCorrupt, BackupError, Header
from shared.backups.models import SchoolDataKey
from shared.pg_tools import pg_popen
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


# --- Writing a backup ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupWritten:
    path: Path
    school_id: int
    schema: str
    dump_bytes: int
    file_bytes: int
    seconds: float


def _stderr_tail(handle, limit: int = 2000) -> str:
    handle.seek(0)
    return handle.read().decode(errors="replace").strip()[-limit:]


def backup_write(*, school: School, out_dir: Path, progress: Callable[[int], None] | None = None) -> BackupWritten:
    """Back up one school's schema to ``out_dir/<schema>-<UTC time>.backup``, encrypted with the
    school's data key. The file appears only once complete (written as ``.partial``, then renamed);
    on any failure nothing is left behind."""
    started = time.monotonic()
    if school.schema_dropped_at is not None:
        raise BackupRefused(f"school {school.pk}'s schema was dropped by retention on "
                            f"{school.schema_dropped_at:%d %B %Y}: there is nothing to back up")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [school.schema_name])
        if cursor.fetchone() is None:
            raise BackupRefused(f"school {school.pk}'s schema {school.schema_name} does not exist")
    row, data_key = data_key_for_backup(school=school)
    now = clock.now()
    header = Header.new(school_id=school.pk, schema=school.schema_name, data_key_id=row.pk,
                        master_key_id=row.master_key_id, created_at=now.isoformat())
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = out_dir / f"{school.schema_name}-{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}Z.backup"
    partial = path.with_name(path.name + ".partial")
    with tempfile.TemporaryFile() as errors:
        dump = pg_popen("pg_dump", "--format=custom", f"--schema={school.schema_name}",
                        stdout=subprocess.PIPE, stderr=errors)
        try:
            with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as target:
                dump_bytes = crypto.encrypt_stream(dump.stdout, target, data_key=data_key, header=header,
                                                   progress=progress)
                target.flush()
                os.fsync(target.fileno())
            if dump.wait() != 0:
                raise BackupError(f"pg_dump failed for {school.schema_name}: {_stderr_tail(errors)}")
            os.replace(partial, path)
        except BaseException:
            dump.kill()
            dump.wait()
            partial.unlink(missing_ok=True)
            raise
        finally:
            dump.stdout.close()
    written = BackupWritten(path=path, school_id=school.pk, schema=school.schema_name, dump_bytes=dump_bytes,
                            file_bytes=path.stat().st_size, seconds=time.monotonic() - started)
    log.info("backup.written", school_id=school.pk, schema=school.schema_name, data_key_id=row.pk,
             dump_bytes=dump_bytes, file_bytes=written.file_bytes, file=path.name)
    return written


# --- Reading a backup ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenedBackup:
    header: Header
    raw_header: bytes
    school: School
    data_key: bytes


def backup_open(*, path: Path, school: School | None = None) -> OpenedBackup:
    """Read a backup's header and unwrap its school's data key, refusing what can't or must not be
    read: another school's file (when ``school`` is named), a destroyed key, a dropped school."""
    try:
        with open(path, "rb") as source:
            header, raw_header = crypto.header_read(source)
    except OSError as error:
        raise BackupError(f"can't read {path}: {error.strerror}") from None
    target = School.objects.filter(pk=header.school_id).first()
    if target is None:
        raise BackupRefused(f"the backup is of school {header.school_id}, which this database does not have")
    if school is not None and school.pk != target.pk:
        raise BackupRefused(f"the backup is of school {target.pk} ({header.schema}), not of school {school.pk} "
                            f"({school.schema_name})")
    row = SchoolDataKey.objects.filter(pk=header.data_key_id, school=target).first()
    if row is None:
        raise BackupCorrupt(f"the backup names data key {header.data_key_id} of school {target.pk}, which does not exist")
    if row.destroyed_at is not None:
        raise BackupKeyDestroyed(f"this backup can no longer be read: the school's data key was destroyed on "
                                 f"{timezone.localtime(row.destroyed_at):%d %B %Y at %H:%M} by {row.destroyed_by or 'an operator'}")
    if target.schema_dropped_at is not None:
        raise BackupRefused(f"school {target.pk}'s schema was dropped by retention on {target.schema_dropped_at:%d %B %Y}: "
                            "its backups must not be restored")
    if header.schema != target.schema_name:
        raise BackupRefused(f"the backup is of schema {header.schema}, but school {target.pk}'s is {target.schema_name}")
    data_key = crypto.data_key_unwrap(row.wrapped_key, school_id=target.pk, key_id=row.master_key_id)
    return OpenedBackup(header=header, raw_header=raw_header, school=target, data_key=data_key)


def backup_check(*, path: Path, school: School | None = None) -> int:
    """Decrypt and authenticate a whole backup, keeping nothing: the dump's size in bytes."""
    opened = backup_open(path=path, school=school)
    with open(path, "rb") as source:
        crypto.header_read(source)
        return sum(len(chunk) for chunk in crypto.decrypt_chunks(source, header=opened.header,
                                                                  raw_header=opened.raw_header,
                                                                  data_key=opened.data_key))


# --- Restoring -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    school_id: int
    schema: str
    dump_bytes: int
    migrated: bool
    erased_again: dict[str, int]
    retention_reapplied: int
    seconds: float


def backup_restore(*, path: Path, school: School | None = None, progress: Callable[[int], None] | None = None) -> Restored:
    """Replace a school's schema with the one in a backup, then erase again everyone the erasure
    ledger names and delete again what retention deleted since (departed pupils, configuration).
    Refused, changing nothing, for a file that is not the school's, whose key is destroyed, or of
    a school retention dropped. Runs outside any transaction: psql holds its own."""
    started = time.monotonic()
    opened = backup_open(path=path, school=school)
    if connection.in_atomic_block:
        raise RuntimeError("a restore runs in psql's own transaction: call it outside transaction.atomic")
    connection.set_schema_to_public()
    target, schema = opened.school, opened.header.schema
    dump_bytes = _apply(path, opened, progress)
    log.info("backup.restored", school_id=target.pk, schema=schema, dump_bytes=dump_bytes, file=Path(path).name)
    migrated = _migrate_if_behind(schema)
    erased_again = _ledger_replay(target)
    reapplied = _retention_replay(target)
    connection.set_schema_to_public()
    return Restored(school_id=target.pk, schema=schema, dump_bytes=dump_bytes, migrated=migrated,
                    erased_again=erased_again, retention_reapplied=reapplied, seconds=time.monotonic() - started)


def _apply(path: Path, opened: OpenedBackup, progress: Callable[[int], None] | None) -> int:
    """decrypt | pg_restore -f - | psql --single-transaction, with this process in the middle of
    both pipes, so that psql is killed (and its transaction rolled back) before it can commit
    anything short of a complete, authenticated archive that pg_restore read without error."""
    school_id, schema = opened.school.pk, opened.header.schema
    guard = (f"DO $$ BEGIN PERFORM 1 FROM public.schools_school WHERE id = {int(school_id)} "
             f"AND schema_dropped_at IS NULL FOR UPDATE; IF NOT FOUND THEN "
             f"RAISE EXCEPTION 'school {int(school_id)} was dropped by retention: not restored'; END IF; END $$;")
    failures: list[BaseException] = []
    fed = [0]
    psql_killed = threading.Event()
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        restore = pg_popen("pg_restore", "--no-owner", "--no-acl", "--file=-", connect=False,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=restore_errors)
        psql = pg_popen("psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction",
                        f"--command={guard}", f'--command=DROP SCHEMA IF EXISTS "{schema}" CASCADE', "--file=-",
                        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors)

        def feed() -> None:
            try:
                with open(path, "rb") as source:
                    crypto.header_read(source)
                    for chunk in crypto.decrypt_chunks(source, header=opened.header, raw_header=opened.raw_header,
                                                       data_key=opened.data_key):
                        restore.stdin.write(chunk)
                        fed[0] += len(chunk)
                        if progress:
                            progress(fed[0])
            except BaseException as error:  # noqa: BLE001  (reported by the main thread)
                failures.append(error)
                psql_killed.set()
                psql.kill()  # first, before pg_restore sees the end of its input
            finally:
                try:
                    restore.stdin.close()
                except OSError:
                    pass

        feeder = threading.Thread(target=feed, name=f"restore-{schema}", daemon=True)
        feeder.start()
        try:
            while block := restore.stdout.read(1 << 16):
                psql.stdin.write(block)
        except OSError:  # psql stopped: an SQL error, or killed by the feeder
            restore.kill()
        feeder.join()
        restore_code = restore.wait()
        restore.stdout.close()
        if failures or restore_code != 0:
            psql_failed = psql.poll() not in (None, 0) and not psql_killed.is_set()
            psql.kill()
            psql.wait()
            if failures and isinstance(failures[0], BackupError):
                raise failures[0]  # a chunk that failed authentication, a file cut short
            if psql_failed:
                raise BackupError(f"psql failed; nothing was restored: {_stderr_tail(psql_errors)}")
            if restore_code != 0:
                raise BackupError(f"pg_restore failed; nothing was restored: {_stderr_tail(restore_errors)}")
            raise BackupError(f"restore failed; nothing was restored: {failures[0]!r}")
        try:
            psql.stdin.close()
        except OSError:
            pass
        if psql.wait() != 0:
            raise BackupError(f"psql failed; nothing was restored: {_stderr_tail(psql_errors)}")
    return fed[0]


def _migrate_if_behind(schema: str) -> bool:
    """A backup may predate migrations the code has since gained: bring the restored schema level."""
    with schema_context(schema):
        executor = MigrationExecutor(connection)
        behind = bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    if behind:
        call_command("migrate_schemas", schema_name=schema, interactive=False, verbosity=0)
        log.info("backup.restore_migrated", schema=schema)
    return behind


def _ledger_replay(school: School) -> dict[str, int]:
    from tenants.rights.ledger import ledger_replay

    with schema_context(school.schema_name):
        removed = ledger_replay(school)
    log.info("backup.ledger_replayed", school_id=school.pk, erased=sum(removed.values()))
    return removed


# Retention's units that live inside a school's schema: a backup older than their deletion holds them.
REPLAYED_RETENTION_KINDS = ("pupil", "school_configuration")


def _retention_replay(school: School) -> int:
    """Delete again what retention deleted in the school since the backup was made (the deletion
    records stay as they are: the units were deleted then, and are deleted again now)."""
    from shared.privacy.executor import DELETERS
    from shared.privacy.models import DeletionRecord

    removed = 0
    with transaction.atomic():
        for record in DeletionRecord.objects.filter(school_id=school.pk, kind__in=REPLAYED_RETENTION_KINDS).order_by("executed_at", "id"):
            removed += DELETERS[record.kind](record.unit, record.due_on)
    connection.set_schema_to_public()
    if removed:
        log.info("backup.retention_reapplied", school_id=school.pk, records=removed)
    return removed
