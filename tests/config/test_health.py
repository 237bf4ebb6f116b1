"""``GET /health/`` on the public host: 200 listing the checks when the services are fit, 503 naming
the one that is not (Redis stopped for real, the spare pool empty, a migration unapplied)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from shared.audit.services import visit_buffer_key
from shared.redis_client import redis_client
from shared.schools.models import SpareSchema
from tests.helpers import host_client

pytestmark = pytest.mark.django_db
CHECKS = ["Database", "Cache", "Redis", "Migrations", "Spare pool"]


def health(accept: str = "application/json"):
    return host_client(settings.BASE_DOMAIN).get("/health/", HTTP_ACCEPT=accept)


def test_all_checks_pass_on_the_real_services_with_no_sign_in_and_no_caching():
    response = health()

    assert response.status_code == 200, response.content
    assert response.json() == {name: "OK" for name in CHECKS}
    assert "no-store" in response["Cache-Control"]
    assert "sessionid" not in response.cookies


def test_the_html_answer_lists_the_checks_under_the_content_security_policy():
    response = health(accept="text/html")

    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Healthy</h1>" in page and all(f"<td>{name}</td><td>OK</td>" in page for name in CHECKS)
    assert "style-src 'self'" in response["Content-Security-Policy"]


def test_a_school_host_has_no_health_page(oakfield):
    assert host_client(oakfield.hostname).get("/health/").status_code == 404


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def throwaway_redis():
    """A Redis of this test's own (never the machine's, which other runs share), to stop for real."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("no redis-server on this machine (apt-get install redis-server)")
    port = _free_port()
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=0.2).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    yield url, process
    if process.poll() is None:
        process.kill()
    process.wait()


def test_a_stopped_redis_answers_503_naming_redis(throwaway_redis, settings):
    url, process = throwaway_redis
    settings.REDIS_URL = url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    while_running = health()

    process.terminate()
    process.wait(timeout=10)
    after_stop = health()

    assert while_running.status_code == 200, while_running.content
    assert after_stop.status_code == 503
    results = after_stop.json()
    assert results["Redis"] == "Unavailable: Unable to connect to Redis: Connection Error"
    assert results["Cache"] != "OK"  # the cache lives in the same Redis
    assert results["Database"] == results["Migrations"] == results["Spare pool"] == "OK"


def test_an_empty_spare_pool_answers_503_naming_the_pool():
    assert SpareSchema.objects.exists()
    SpareSchema.objects.all().delete()  # rolled back with the test

    response = health()

    assert response.status_code == 503
    assert response.json()["Spare pool"] == "Unavailable: no spare school schema: sign-ups would wait for a migration"
    assert [name for name, status in response.json().items() if status != "OK"] == ["Spare pool"]


def test_an_unapplied_migration_answers_503_naming_migrations():
    recorder = MigrationRecorder(connection)
    recorder.migration_qs.filter(app="schools").order_by("-id").first().delete()  # rolled back with the test

    response = health()

    assert response.status_code == 503
    assert response.json()["Migrations"] == "Unavailable: 1 unapplied migration(s) in the public schema"


def test_the_probe_is_not_a_visit():
    buffer = visit_buffer_key()
    before = redis_client().llen(buffer)

    health()
    health(accept="text/plain")
    after_probes = redis_client().llen(buffer)
    host_client(settings.BASE_DOMAIN).get("/")

    assert after_probes == before
    assert redis_client().llen(buffer) == before + 1  # the landing page is one
