"""Suite-wide fixtures. The two example schools are provisioned once per test session (committed,
so that worker threads see them too) and reused; each test runs in a transaction that is rolled
back, DDL included, so a test may provision more schools without leaving them behind."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from ops.demo import DEMO_PASSWORD, SeededSchool, demo_seed
from orchestration import pool
from shared import process_cache
from shared.audit.services import visit_buffer_key
from shared.redis_client import redis_client

SPARES_FOR_TESTS = 3
pytest_plugins = ["tests.browser_fixtures", "tests.mail_fixtures", "tests.worker_capture"]


def pytest_configure(config):
    # Hashing with the production hasher costs ~0.3 s a password; the tests are not about it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Sign-in throttling counts in the cache: a run of its own, so earlier runs' counts don't leak in.
    settings.CACHES["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:8]}"
    # Schools' uploaded files: a folder of this run's own (the database rolls back; the disk does not).
    settings.SCHOOL_FILES_ROOT = Path(tempfile.mkdtemp(prefix="pupiltrack-test-files-"))
    settings.VENDOR_FILES_ROOT = Path(tempfile.mkdtemp(prefix="pupiltrack-test-vendor-files-"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    if connection.settings_dict["NAME"] != settings.DATABASES["default"]["TEST"]["NAME"]:
        # pytest-django sets up no database when no collected test is marked django_db: never let
        # the seeding below touch a real database.
        yield
        return
    redis_client().delete(visit_buffer_key())
    with django_db_blocker.unblock():
        pool.pool_top_up(size=SPARES_FOR_TESTS)
        seeded = demo_seed()
        # Leave the pool full for the tests that claim from it.
        pool.pool_top_up(size=SPARES_FOR_TESTS)
    settings.TEST_SCHOOLS = {s.demo.subdomain: s for s in seeded}
    yield
    redis_client().delete(visit_buffer_key())
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # Live-server and worker threads can leave a connection idle behind them; PostgreSQL will
        # not drop the test database while one is open, and no test runs any more.
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(autouse=True)
def _back_to_public():
    """A request or a schema_context can leave the test's connection inside a school."""
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _process_caches_forgotten():
    """Each test's transaction is rolled back, so what this process's caches read inside it (a
    school cancelled, a notice published) must not outlive it (shared.process_cache). Other
    processes never saw those rows: they were not committed."""
    process_cache.clear_all_local()
    yield
    process_cache.clear_all_local()


@pytest.fixture
def oakfield(django_db_setup) -> SeededSchool:
    return settings.TEST_SCHOOLS["oakfield"]


@pytest.fixture
def riverside(django_db_setup) -> SeededSchool:
    return settings.TEST_SCHOOLS["riverside"]


@pytest.fixture
def password() -> str:
    return DEMO_PASSWORD
