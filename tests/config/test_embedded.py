"""With no DATABASE_URL / REDIS_URL the product runs on an embedded PostgreSQL and Redis, whose
data lives in one folder and survives a restart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "PUPILTRACK_EMBEDDED"}}
    env.update(PUPILTRACK_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="config.settings.development")
    return subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def data_dir(tmp_path):
    path = tmp_path / "embedded"
    yield path
    run(["-m", "ops.embedded", "stop"], path)


def test_embedded_mode_starts_migrates_and_provisions_a_school(data_dir):
    started = run(["-m", "ops.embedded", "start"], data_dir)
    migrated = run(["manage.py", "migrate", "--verbosity", "0"], data_dir)
    provisioned = run(["manage.py", "provision_school", "--name", "Oakfield Primary", "--subdomain", "oakfield",
                       "--admin-email", "head@oakfield.example"], data_dir)

    assert started.returncode == 0, started.stderr
    assert f"embedded PostgreSQL (data in {data_dir / 'pgdata'}" in started.stdout
    assert "broker:   embedded Redis (unix://" in started.stdout
    assert migrated.returncode == 0, migrated.stderr
    assert provisioned.returncode == 0, provisioned.stderr
    assert "Provisioned Oakfield Primary" in provisioned.stdout
    assert (data_dir / "pgdata" / "PG_VERSION").exists()

    stopped = run(["-m", "ops.embedded", "stop"], data_dir)
    after_restart = run(["manage.py", "shell", "-c",
                         "from shared.schools.models import School; print(list(School.objects.values_list('name', flat=True)))"],
                        data_dir)

    assert stopped.stdout.strip() == "stopped embedded PostgreSQL and Redis"
    assert after_restart.returncode == 0, after_restart.stderr
    assert after_restart.stdout.strip().splitlines()[-1] == "['Oakfield Primary']"
