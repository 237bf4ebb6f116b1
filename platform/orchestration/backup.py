"""Writing and reading a school's backup.

A backup is ``pg_dump --format=custom --schema=<the school's schema>`` piped straight into the
encryptor (``shared.backups.crypto``): the plaintext dump never touches the disk. Opening one checks
that it is this school's and that its data key still exists."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog
from django.db import connection
from django.utils import timezone

from shared import clock
from shared.backups import crypto
from shared.backups.crypto import BackupCorrupt, BackupError, Header
from shared.backups.keys import BackupKeyDestroyed, BackupRefused, data_key_for_backup
from shared.backups.models import SchoolDataKey
from shared.pg_tools import pg_popen
from shared.schools.models import School

log = structlog.get_logger(__name__)


# --- Writing a backup ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupWritten:
    path: Path
    school_id: int
    schema: str
    dump_bytes: int
    file_bytes: int
    seconds: float


def stderr_tail(handle, limit: int = 2000) -> str:
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
                raise BackupError(f"pg_dump failed for {school.schema_name}: {stderr_tail(errors)}")
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
