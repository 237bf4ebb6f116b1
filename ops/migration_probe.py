"""A temporary extra migration for a school app, for the fleet benchmark and the fleet tests.

``extra_migration(sql)`` copies the app's migrations package into a temporary folder (never the
checkout), adds one migration running ``sql`` after the app's latest one, and points
``MIGRATION_MODULES`` at the copy for the duration of the block: the code's migration
fingerprint changes, so every school schema is "behind" until ``migrate_fleet`` applies it.
Each probe's migration has a name of its own, so two probes never share a fingerprint.

A process that did not write the probe (a ``migrate_fleet`` run in a subprocess) takes it up with
``MigrationProbe.activate()`` on the same folder.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings

MIGRATION = '''from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [({app_label!r}, {after!r})]
    operations = [migrations.RunSQL({sql!r}, reverse_sql={reverse_sql!r})]
'''


@dataclass(frozen=True)
class MigrationProbe:
    folder: str  # goes on sys.path
    package: str  # the copied migrations package, inside folder
    app_label: str
    migration_name: str

    def activate(self) -> None:
        from orchestration import pool

        if self.folder not in sys.path:
            sys.path.insert(0, self.folder)
        settings.MIGRATION_MODULES = {**settings.MIGRATION_MODULES, self.app_label: self.package}
        pool.migration_fingerprint.cache_clear()

    def deactivate(self) -> None:
        from orchestration import pool

        settings.MIGRATION_MODULES = {k: v for k, v in settings.MIGRATION_MODULES.items() if v != self.package}
        with contextlib.suppress(ValueError):
            sys.path.remove(self.folder)
        for name in [name for name in sys.modules if name == self.package or name.startswith(self.package + ".")]:
            del sys.modules[name]
        pool.migration_fingerprint.cache_clear()


def probe_write(sql: str, *, app_label: str = "pupils", reverse_sql: str = "") -> MigrationProbe:
    """Write the probe's files (the caller removes ``folder``); does not activate it."""
    from django.db.migrations.loader import MigrationLoader

    module_name, _ = MigrationLoader.migrations_module(app_label)
    source = Path(apps.get_app_config(app_label).path) / "migrations"
    assert module_name.endswith(".migrations") and source.is_dir(), module_name
    latest = max(path.stem for path in source.glob("[0-9]*.py"))
    token = uuid.uuid4().hex[:8]
    folder = tempfile.mkdtemp(prefix="migration-probe-")
    package = f"migration_probe_{app_label}_{token}"
    shutil.copytree(source, Path(folder) / package, ignore=shutil.ignore_patterns("__pycache__"))
    migration_name = f"9000_probe_{token}"
    (Path(folder) / package / f"{migration_name}.py").write_text(
        MIGRATION.format(app_label=app_label, after=latest, sql=sql, reverse_sql=reverse_sql or None)
    )
    return MigrationProbe(folder=folder, package=package, app_label=app_label, migration_name=migration_name)


@contextlib.contextmanager
def extra_migration(sql: str, *, app_label: str = "pupils", reverse_sql: str = "") -> Iterator[MigrationProbe]:
    """One more migration of ``app_label`` running ``sql``, for the duration of the block."""
    probe = probe_write(sql, app_label=app_label, reverse_sql=reverse_sql)
    probe.activate()
    try:
        yield probe
    finally:
        probe.deactivate()
        shutil.rmtree(probe.folder, ignore_errors=True)
