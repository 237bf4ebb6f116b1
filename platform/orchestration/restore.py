"""Restoring a school's backup.

A restore pipes the decrypted archive through ``pg_restore`` (as SQL) into one ``psql`` transaction
that first locks the school's row, checks retention has not dropped it, and drops the schema being
replaced, so the school either has its old schema or the restored one, never half of each; then the
erasure ledger (``orchestration.erasure_replay``) and the retention deletions recorded since are
applied again. On a Citus coordinator with schema-based sharding, the schema is restored plain and
distributed in that same transaction."""

from __future__ import annotations

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
from django_tenants.utils import schema_context
from psycopg2 import sql

from orchestration.backup import OpenedBackup, backup_open, stderr_tail
from orchestration.pool import schema_sharding_on
from shared import process_cache
from shared.backups import crypto
from shared.backups.crypto import BackupError
from shared.pg_tools import pg_popen, sql_text
from shared.schools.models import School

log = structlog.get_logger(__name__)


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
    # psql wrote the school's rows behind the ORM's back: every process reads its per-page lookups
    # (its branding among them) again.
    process_cache.invalidate_all()
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
    # psql's --command takes no parameters: the values are literals.
    guard = sql_text(sql.SQL(
        "DO $$ BEGIN PERFORM 1 FROM public.schools_school WHERE id = {id} "
        "AND schema_dropped_at IS NULL FOR UPDATE; IF NOT FOUND THEN "
        "RAISE EXCEPTION {message}; END IF; END $$;").format(
            id=sql.Literal(int(school_id)),
            message=sql.Literal(f"school {int(school_id)} was dropped by retention: not restored")))
    schema_drop = sql_text(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    before, after = [], []
    if schema_sharding_on():
        # On a Citus coordinator the dump's DDL (ALTER TABLE ... ADD GENERATED ... AS IDENTITY) is
        # refused inside a distributed schema: restore it as a plain schema, then distribute it
        # whole before psql commits (orchestration.pool does the same for new schemas).
        before = ["--command=SET LOCAL citus.enable_schema_based_sharding = off"]
        after = [f"--command={sql_text(sql.SQL('SET CONSTRAINTS ALL IMMEDIATE; SELECT citus_schema_distribute({}::regnamespace)').format(sql.Literal(schema)))}"]
    failures: list[BaseException] = []
    fed = [0]
    psql_killed = threading.Event()
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        restore = pg_popen("pg_restore", "--no-owner", "--no-acl", "--file=-", connect=False,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=restore_errors)
        psql = pg_popen("psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction",
                        f"--command={guard}", *before, f"--command={schema_drop}", "--file=-", *after,
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
                raise BackupError(f"psql failed; nothing was restored: {stderr_tail(psql_errors)}")
            if restore_code != 0:
                raise BackupError(f"pg_restore failed; nothing was restored: {stderr_tail(restore_errors)}")
            raise BackupError(f"restore failed; nothing was restored: {failures[0]!r}")
        try:
            psql.stdin.close()
        except OSError:
            pass
        if psql.wait() != 0:
            raise BackupError(f"psql failed; nothing was restored: {stderr_tail(psql_errors)}")
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
    from orchestration.erasure_replay import ledger_replay

    with schema_context(school.schema_name):
        removed = ledger_replay(school)
    log.info("backup.ledger_replayed", school_id=school.pk, erased=sum(removed.values()))
    return removed


# Retention's units that live inside a school's schema: a backup older than their deletion holds them.
REPLAYED_RETENTION_KINDS = ("pupil", "school_configuration", "school_request")


def _retention_replay(school: School) -> int:
    """Delete again what retention deleted in the school since the backup was made (the deletion
    records stay as they are: the units were deleted then, and are deleted again now)."""
    from orchestration.retention.delete import DELETERS
    from shared.privacy.models import DeletionRecord

    removed = 0
    with transaction.atomic():
        for record in DeletionRecord.objects.filter(school_id=school.pk, kind__in=REPLAYED_RETENTION_KINDS).order_by("executed_at", "id"):
            removed += DELETERS[record.kind](record.unit, record.due_on)
    connection.set_schema_to_public()
    if removed:
        log.info("backup.retention_reapplied", school_id=school.pk, records=removed)
    return removed
