"""Fleet migrations: every school schema, the template and the spare pool brought to the code's
migration state (``python manage.py migrate_fleet``).

- Each ``School`` row keeps the fingerprint (``pool.migration_fingerprint()``) of the migration
  state its schema is at: set when the school is provisioned (spares and built schemas are
  current) and in the same transaction as each successful migration. Finding the schools behind
  (or whose last migration did not succeed) is one query on ``public``; a school at the current
  state is never opened.
- A school behind is migrated the django-tenants way (Django's migrate command with the
  connection in the school's schema), but in one transaction of its own that also sets its
  fingerprint. PostgreSQL DDL is transactional, so a crash or a failure leaves the school wholly
  at the old state or wholly at the new one, and a rerun picks up exactly the schools still behind.
- While it migrates, the school's row says ``migrating`` (committed first, so that its site shows
  the maintenance page instead of queueing behind the migration's locks); success sets ``ok``; a
  failure rolls the school back, records ``failed`` with the error, keeps the maintenance page,
  and the run carries on with the others.
- The transaction locks that school's tables only, and its row in ``public`` (FOR NO KEY UPDATE:
  inserts that reference the school are not blocked), which serialises two runs on one school.
  Every lock is taken under ``lock_timeout``: a migration that finds a table busy (a long request
  or a job of that school) gives up after a few seconds and is retried, rather than making every
  later query on that table wait behind it.
- A bounded pool of forked worker processes migrates the schools; each worker closes its
  connection after every school, since a backend's catalog cache grows with every schema it
  touches, and dies with the command (a crash leaves no orphan migrating on its own).
- A school's cost does not grow with the fleet: the one catalog-wide query Django's migrate runs
  per school (several times: does ``django_migrations`` exist?) is answered by name instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import structlog
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Q
from django_tenants.utils import get_public_schema_name, get_tenant_base_migrate_command_class

from orchestration import pool
from shared.schools.models import School, SpareSchema
from shared.schools.selectors import schools_behind

log = structlog.get_logger(__name__)

LOCK_TIMEOUT_SECONDS = 5.0
LOCK_ATTEMPTS = 3
RETRY_PAUSES = (1.0, 3.0, 5.0)  # seconds before the 2nd, 3rd, ... attempt
# lock_not_available (lock_timeout) and deadlock_detected: the school was busy, not broken.
_RETRYABLE_SQLSTATES = {"55P03", "40P01"}
ERROR_MAX_CHARS = 500

MIGRATED, CURRENT, FAILED, NOT_RUN = "migrated", "current", "failed", "not run"


class FleetMigrationRefused(ValueError):
    """Refused before anything was touched; the message says why."""


@dataclass(frozen=True)
class SchoolMigration:
    """What happened to one school: migrated, found current when opened (another run did it),
    failed (rolled back), or not run (the run was interrupted first)."""

    school_id: int
    schema_name: str
    outcome: str
    applied: int = 0
    seconds: float = 0.0
    error: str = ""


@dataclass
class FleetMigration:
    fingerprint: str
    schools: int  # every school with a schema
    behind: int  # listed as behind by their fingerprint
    template_rebuilt: bool
    spares_replaced: int | None  # None: another process holds the pool, and does it
    results: list[SchoolMigration] = field(default_factory=list)
    seconds: float = 0.0

    def _with(self, outcome: str) -> list[SchoolMigration]:
        return [r for r in self.results if r.outcome == outcome]

    @property
    def migrated(self) -> list[SchoolMigration]:
        return self._with(MIGRATED)

    @property
    def failed(self) -> list[SchoolMigration]:
        return self._with(FAILED)

    @property
    def not_run(self) -> list[SchoolMigration]:
        return self._with(NOT_RUN)

    @property
    def skipped(self) -> int:
        """Schools already at the current state: never opened, or found current when opened."""
        return self.schools - self.behind + len(self._with(CURRENT))

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_run


def default_processes() -> int:
    return min(4, os.cpu_count() or 1)


# --- Checks before anything moves ---------------------------------------------------------------


def _tenant_labels() -> set[str]:
    return {config.label for config in apps.get_app_configs() if config.name in settings.TENANT_APPS}


def _refuse_unless_ready() -> None:
    """Every school migration must run inside a transaction, and ``public`` must be migrated
    first (``migrate_schemas --shared``): this code reads the School fields it adds."""
    executor = MigrationExecutor(connection)
    tenant_labels = _tenant_labels()
    non_atomic = sorted(f"{app}.{name}" for (app, name), migration in executor.loader.disk_migrations.items()
                        if app in tenant_labels and not migration.atomic)
    if non_atomic:
        raise FleetMigrationRefused(
            f"school migrations must be atomic (each school migrates in one transaction): {', '.join(non_atomic)}")
    shared_labels = {config.label for config in apps.get_app_configs() if config.name in settings.SHARED_APPS}
    pending = sorted(f"{m.app_label}.{m.name}" for m, _ in executor.migration_plan(executor.loader.graph.leaf_nodes())
                     if m.app_label in shared_labels)
    if pending:
        raise FleetMigrationRefused(
            f"public is not migrated ({', '.join(pending[:5])}{'...' if len(pending) > 5 else ''}): "
            "run `manage.py migrate_schemas --shared` first")


# --- The template and the spares -----------------------------------------------------------------


def _pool_refresh(fingerprint: str) -> tuple[bool, int | None]:
    """Rebuild a stale template and replace stale spares (keeping the pool's size), through the
    pool's own top-up so that it never races the worker's. Returns (template rebuilt, spares
    replaced), or (False, None) when another process holds the pool."""
    template_current = pool.recipe_is_current()
    stale = SpareSchema.objects.exclude(fingerprint=fingerprint).count()
    if template_current and not stale:
        return False, 0
    pool.pool_top_up(size=SpareSchema.objects.count())
    if not pool.recipe_is_current() or SpareSchema.objects.exclude(fingerprint=fingerprint).exists():
        return False, None
    return not template_current, stale


# --- One school -----------------------------------------------------------------------------------


class _Current(Exception):
    """The school turned out to be at the current state (or gone): nothing to do."""


def _migrate_command_class():
    base = get_tenant_base_migrate_command_class()

    class FleetMigrate(base):
        """Django's migrate, remembering the migration it is applying (for the error report)."""

        applying = None
        applied = 0

        def migration_progress_callback(self, action, migration=None, fake=False):
            if action == "apply_start":
                self.applying = migration
            elif action == "apply_success":
                self.applying = None
                self.applied += 1
            super().migration_progress_callback(action, migration, fake)

    return FleetMigrate


def _has_table_in_schema(recorder: MigrationRecorder) -> bool:
    """``MigrationRecorder.has_table`` by name in the connection's schema. Django's lists every
    table the connection can see (through django-tenants: of that schema) with a query that tests
    the visibility of every relation of every schema: a cost that grows with the fleet (about
    0.3 s at 2,000 schools), paid several times per school by migrate. Same answer, one index probe."""
    if recorder._has_table:
        return True
    with recorder.connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relname = %s AND relkind IN ('r', 'p', 'v', 'm', 'f') "
            "AND relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = %s))",
            [recorder.Migration._meta.db_table, recorder.connection.schema_name])
        (recorder._has_table,) = cursor.fetchone()
    return recorder._has_table


@contextlib.contextmanager
def _recorder_by_name():
    original = MigrationRecorder.has_table
    MigrationRecorder.has_table = _has_table_in_schema
    try:
        yield
    finally:
        MigrationRecorder.has_table = original


def _schema_migrate(schema_name: str, command) -> None:
    """Migrate one schema in the caller's transaction, as django-tenants' executors do."""
    try:
        with _recorder_by_name():
            # django_migrations must be found in the school's schema, never public's.
            connection.set_schema(schema_name, include_public=False)
            MigrationRecorder(connection).ensure_schema()
            connection.set_schema(schema_name)
            call_command(command, interactive=False, verbosity=0, skip_checks=True,
                         stdout=io.StringIO(), stderr=io.StringIO())
    finally:
        connection.set_schema_to_public()  # also clears the content-type cache


def _lock_timeout(seconds: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(seconds * 1000)}ms"])


def _attempt(*, school_id: int, schema_name: str, fingerprint: str, lock_timeout: float, command) -> None:
    # Committed first: the site shows the maintenance page while the migration holds its locks.
    unfinished = ~Q(migration_fingerprint=fingerprint) | ~Q(migration_state=School.MigrationState.OK)
    with transaction.atomic():
        _lock_timeout(lock_timeout)
        marked = (School.objects.filter(unfinished, pk=school_id, schema_dropped_at__isnull=True)
                  .update(migration_state=School.MigrationState.MIGRATING))
    if not marked:
        raise _Current
    with transaction.atomic():
        _lock_timeout(lock_timeout)
        # Locked, then read again: another run may have migrated the school meanwhile.
        row = (School.objects.select_for_update(no_key=True).filter(pk=school_id)
               .values_list("migration_fingerprint", "migration_state", "schema_dropped_at").first())
        if row is None or row[:2] == (fingerprint, School.MigrationState.OK) or row[2] is not None:
            raise _Current
        _schema_migrate(schema_name, command)
        School.objects.filter(pk=school_id).update(migration_fingerprint=fingerprint, migration_state=School.MigrationState.OK,
                                                   migration_error="")


def _sqlstate(exc: BaseException) -> str | None:
    while exc is not None:
        code = getattr(exc, "pgcode", None) or getattr(exc, "sqlstate", None)
        if code:
            return code
        exc = exc.__cause__ or exc.__context__
    return None


def _describe(exc: Exception, migration) -> str:
    """One line for operators: the migration, the error's class and its message's first line
    (PostgreSQL's DETAIL lines, which can quote row values, are left out)."""
    first_line = (str(exc).strip().splitlines() or [""])[0]
    where = f"{migration.app_label}.{migration.name}: " if migration is not None else ""
    return f"{where}{type(exc).__name__}: {first_line}"[:ERROR_MAX_CHARS]


def school_migrate(*, school_id: int, schema_name: str, fingerprint: str | None = None,
                   lock_timeout: float = LOCK_TIMEOUT_SECONDS, attempts: int = LOCK_ATTEMPTS) -> SchoolMigration:
    """Bring one school's schema to the code's migration state in one transaction, setting its
    fingerprint in the same transaction. A busy school (lock timeout, deadlock) is tried
    ``attempts`` times; a failure is rolled back and recorded on the school (its site keeps the
    maintenance page). Never raises for the school's own failure: returns what happened."""
    fingerprint = fingerprint or pool.migration_fingerprint()
    started = time.perf_counter()
    bound = log.bind(school_id=school_id, schema=schema_name)
    for attempt in range(1, attempts + 1):
        command = _migrate_command_class()()
        try:
            _attempt(school_id=school_id, schema_name=schema_name, fingerprint=fingerprint,
                     lock_timeout=lock_timeout, command=command)
        except _Current:
            return SchoolMigration(school_id, schema_name, CURRENT, seconds=time.perf_counter() - started)
        except Exception as exc:
            sqlstate = _sqlstate(exc)
            if sqlstate in _RETRYABLE_SQLSTATES and attempt < attempts:
                bound.warning("fleet.school_busy", attempt=attempt, sqlstate=sqlstate)
                time.sleep(RETRY_PAUSES[min(attempt, len(RETRY_PAUSES)) - 1])
                continue
            error = _describe(exc, command.applying)
            if sqlstate in _RETRYABLE_SQLSTATES:
                error = f"busy after {attempts} attempts ({lock_timeout:g} s lock timeout each): {error}"[:ERROR_MAX_CHARS]
            School.objects.filter(pk=school_id).update(migration_state=School.MigrationState.FAILED, migration_error=error)
            bound.error("fleet.school_failed", error_class=type(exc).__name__, sqlstate=sqlstate, attempts=attempt,
                        migration=f"{command.applying.app_label}.{command.applying.name}" if command.applying else None)
            return SchoolMigration(school_id, schema_name, FAILED, seconds=time.perf_counter() - started, error=error)
        seconds = time.perf_counter() - started
        bound.info("fleet.school_migrated", applied=command.applied, ms=round(seconds * 1000, 1))
        return SchoolMigration(school_id, schema_name, MIGRATED, applied=command.applied, seconds=seconds)
    raise AssertionError("unreachable")


# --- Worker processes --------------------------------------------------------------------------------


def _worker_init(parent_pid: int) -> None:
    # Ctrl-C stops the command, which lets each worker finish the school it is on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the command
    if os.getppid() != parent_pid:
        os._exit(1)  # the command died before prctl took effect


def _worker_migrate(school_id: int, schema_name: str, fingerprint: str, lock_timeout: float, attempts: int) -> SchoolMigration:
    try:
        return school_migrate(school_id=school_id, schema_name=schema_name, fingerprint=fingerprint,
                              lock_timeout=lock_timeout, attempts=attempts)
    finally:
        connection.close()  # a fresh backend for the next school: bounded catalog cache


def _in_processes(behind, *, fingerprint, processes, lock_timeout, attempts, report) -> None:
    # Forked workers must not share the parent's socket: close it (Django reopens on demand).
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(processes, len(behind)), mp_context=context,
                             initializer=_worker_init, initargs=(os.getpid(),)) as workers:
        futures = {workers.submit(_worker_migrate, school_id, schema_name, fingerprint, lock_timeout, attempts):
                   (school_id, schema_name) for school_id, schema_name in behind}
        collected = set()

        def collect(future) -> None:
            school_id, schema_name = futures[future]
            try:
                result = future.result()
            except BrokenProcessPool:
                result = SchoolMigration(school_id, schema_name, NOT_RUN, error="a worker process died")
            except Exception as exc:  # noqa: BLE001 - reported; the rerun retries it
                result = SchoolMigration(school_id, schema_name, NOT_RUN, error=f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS])
            collected.add(future)
            report(result)

        try:
            for future in as_completed(futures):
                collect(future)
        except KeyboardInterrupt:
            log.warning("fleet.interrupted")
            for future in futures:
                future.cancel()
            for future in futures:  # the workers finish the school they are on
                if future in collected:
                    continue
                if future.cancelled():
                    school_id, schema_name = futures[future]
                    report(SchoolMigration(school_id, schema_name, NOT_RUN, error="interrupted"))
                else:
                    collect(future)


# --- The fleet ------------------------------------------------------------------------------------


def fleet_migrate(*, processes: int | None = None, lock_timeout: float = LOCK_TIMEOUT_SECONDS,
                  attempts: int = LOCK_ATTEMPTS, started: Callable[[FleetMigration], None] | None = None,
                  progress: Callable[[SchoolMigration, int, int], None] | None = None) -> FleetMigration:
    """Bring the template, the spare pool and every school schema to the code's migration state.
    Schools whose recorded fingerprint is current are not opened; the others are migrated by
    ``processes`` worker processes (0: in this process, in the caller's transaction), each in its
    own transaction. A failed school is reported, not raised: see ``FleetMigration.failed``.
    ``started`` is called once the template and the pool are done and the schools behind are
    known; ``progress`` after each school. Safe to rerun at any point, also after a crash."""
    processes = default_processes() if processes is None else processes
    if processes < 0:
        raise FleetMigrationRefused("processes must be 0 (this process) or more")
    if lock_timeout <= 0 or attempts < 1:
        raise FleetMigrationRefused("the lock timeout must be positive and the attempts at least 1")
    if processes and connection.in_atomic_block:
        raise FleetMigrationRefused("worker processes cannot see the caller's transaction: use processes=0 inside one")
    began = time.perf_counter()
    connection.set_schema_to_public()
    _refuse_unless_ready()

    fingerprint = pool.migration_fingerprint()
    template_rebuilt, spares_replaced = _pool_refresh(fingerprint)
    schools = (School.objects.filter(schema_dropped_at__isnull=True).exclude(schema_name=get_public_schema_name())
               .count())
    behind = schools_behind(fingerprint=fingerprint)
    run = FleetMigration(fingerprint=fingerprint, schools=schools, behind=len(behind),
                         template_rebuilt=template_rebuilt, spares_replaced=spares_replaced)
    log.info("fleet.started", fingerprint=fingerprint, schools=schools, behind=len(behind), processes=processes,
             template_rebuilt=template_rebuilt, spares_replaced=spares_replaced)
    if started:
        started(run)

    def report(result: SchoolMigration) -> None:
        run.results.append(result)
        if progress:
            progress(result, len(run.results), len(behind))

    if behind and processes == 0:
        for school_id, schema_name in behind:
            report(school_migrate(school_id=school_id, schema_name=schema_name, fingerprint=fingerprint,
                                  lock_timeout=lock_timeout, attempts=attempts))
    elif behind:
        _in_processes(behind, fingerprint=fingerprint, processes=processes, lock_timeout=lock_timeout,
                      attempts=attempts, report=report)
    run.seconds = time.perf_counter() - began
    log.info("fleet.finished", fingerprint=fingerprint, skipped=run.skipped, migrated=len(run.migrated),
             failed=len(run.failed), not_run=len(run.not_run), seconds=round(run.seconds, 2))
    return run
