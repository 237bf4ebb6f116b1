"""Connection pooling: PgBouncer in session mode keeps schools apart, and the product's bounds hold
for its server connections; transaction mode would not, so the product refuses it.

The PgBouncer tests start Debian's ``pgbouncer`` with ``ops/pgbouncer/pgbouncer.ini`` (address,
authentication and database replaced) in front of the test database, and are skipped, saying why,
where it is missing. Their requests run through Django's WSGI handler on threads of their own, on
connections through PgBouncer, reading the committed demo schools; the sessions they need are
committed too, and removed afterwards."""

from __future__ import annotations

import configparser
import contextlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg2
import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections
from django.db.utils import load_backend
from django.test import RequestFactory
from django.utils import timezone
from django.utils.html import escape
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from tenants.pupils.models import Pupil
from tenants.users.models import User
from tests.helpers import committed, free_port, process_stop

REPO_ROOT = Path(__file__).resolve().parents[2]
PGBOUNCER = shutil.which("pgbouncer") or next((p for p in ("/usr/sbin/pgbouncer",) if os.path.exists(p)), None)
needs_pgbouncer = pytest.mark.skipif(
    PGBOUNCER is None, reason="no PgBouncer on this machine (apt-get install pgbouncer; .ci/run installs it)")

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def pgbouncer(*, pool_mode: str, pool_size: int = 1):
    """PgBouncer from the shipped configuration, in front of the test database; yields its port."""
    database = connection.settings_dict
    if str(database.get("HOST") or "").startswith("/"):
        pytest.skip("the test database is on a Unix socket only its own user may open (the embedded server): "
                    "PgBouncer is tested against a PostgreSQL on TCP, as in CI")
    config = configparser.ConfigParser(interpolation=None, comment_prefixes=(";",), inline_comment_prefixes=(";",))
    config.read(REPO_ROOT / "ops" / "pgbouncer" / "pgbouncer.ini")
    assert config["pgbouncer"]["pool_mode"] == "session"  # what we ship
    folder = Path(tempfile.mkdtemp(prefix="pupiltrack-pgbouncer-"))
    port = free_port()
    user = database.get("USER") or "postgres"
    target = f"host={database.get('HOST') or 'localhost'} port={database.get('PORT') or 5432} dbname={database['NAME']}"
    if database.get("PASSWORD"):
        target += f" user={user} password={database['PASSWORD']}"
    config["databases"] = {database["NAME"]: target}
    config["pgbouncer"].update({
        "listen_addr": "127.0.0.1", "listen_port": str(port), "unix_socket_dir": "", "auth_type": "trust",
        "auth_file": str(folder / "users.txt"), "pool_mode": pool_mode, "default_pool_size": str(pool_size),
    })
    (folder / "users.txt").write_text(f'"{user}" ""\n')
    with open(folder / "pgbouncer.ini", "w") as handle:
        config.write(handle)
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer will not run as root
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user for PgBouncer to run as")
        command[1:1] = ["-u", "postgres"]
        folder.chmod(0o755)
        for path in folder.iterdir():
            path.chmod(0o644)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                psycopg2.connect(host="127.0.0.1", port=port, dbname=database["NAME"], user=user,
                                 connect_timeout=5).close()
                break
            except psycopg2.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PgBouncer did not start: {process.stderr.read().decode(errors='replace')}") from None
                time.sleep(0.05)
        yield port
    finally:
        process_stop(process)
        shutil.rmtree(folder, ignore_errors=True)


def through(port: int):
    """A connection of the product's backend that goes through PgBouncer on ``port``."""
    settings_dict = {**connections.settings["default"], "HOST": "127.0.0.1", "PORT": port}
    return load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")


def on_threads(*works):
    """Run each callable on a thread of its own, all at once; return their results in order."""
    results, errors = [None] * len(works), []

    def runner(index, work):
        try:
            results[index] = work()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, work)) for i, work in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def staff_sessions(oakfield, riverside):
    """A committed, signed-in session of each demo school's head, by school."""
    made = {}
    for school in (oakfield, riverside):
        schema = school.school.schema_name
        with schema_context(schema):
            head = User.objects.get(email=school.demo.head_email)
            device = TOTPDevice.objects.get(user=head)  # a school admin's session has passed its code
        data = SessionStore().encode({SESSION_KEY: str(head.pk), HASH_SESSION_KEY: head.get_session_auth_hash(),
                                      BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                                      DEVICE_ID_SESSION_KEY: device.persistent_id})
        key = f"pooling{os.urandom(12).hex()}"
        with committed(schema) as cursor:
            cursor.execute("INSERT INTO django_session (session_key, session_data, expire_date) VALUES (%s, %s, %s)",
                           [key, data, timezone.now() + timezone.timedelta(hours=1)])
        made[school.demo.subdomain] = (schema, key)
    yield {subdomain: key for subdomain, (_, key) in made.items()}
    for schema, key in made.values():
        with committed(schema) as cursor:
            cursor.execute("DELETE FROM django_session WHERE session_key = %s", [key])


def pupil_names(school) -> set[bytes]:
    with schema_context(school.school.schema_name):
        return {escape(f"{p.surname}, {p.forename}").encode() for p in Pupil.objects.all()}


@needs_pgbouncer
def test_session_mode_keeps_schools_apart_and_retires_each_schools_server_connection(
        settings, oakfield, riverside, staff_sessions):
    settings.DB_POOL_MODE = "session"
    settings.VISIT_LOG_ENABLED = False
    oak_names, river_names = pupil_names(oakfield), pupil_names(riverside)
    oak_only, river_only = oak_names - river_names, river_names - oak_names

    def browse(port: int, host: str, session_key: str, requests: int = 4):
        connections["default"] = through(port)  # this thread's connection only
        handler = WSGIHandler()
        seen = []
        for _ in range(requests):
            environ = RequestFactory().get("/pupils/", HTTP_HOST=host, HTTP_COOKIE=f"sessionid={session_key}").environ
            response = handler(environ, lambda status, headers: None)
            body = b"".join(response)
            pid = connection.connection.get_backend_pid()
            response.close()
            connection.close()  # as with DB_CONN_MAX_AGE=0: every request hands its connection back
            seen.append((response.status_code, body, pid))
        return seen

    def public_twice(port: int):
        connections["default"] = through(port)
        pids = []
        for _ in range(2):
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.append(cursor.fetchone()[0])
            connection.close()
        return pids

    with pgbouncer(pool_mode="session", pool_size=1) as port:  # one server connection for everyone
        oak_seen, river_seen = on_threads(
            lambda: browse(port, oakfield.hostname, staff_sessions["oakfield"]),
            lambda: browse(port, riverside.hostname, staff_sessions["riverside"]))
        public_pids = on_threads(lambda: public_twice(port))[0]

    for seen, own, other in ((oak_seen, oak_only, river_only), (river_seen, river_only, oak_only)):
        for status, body, _ in seen:
            assert status == 200
            assert any(name in body for name in own)
            assert not [name for name in other if name in body]
    # Each school request's server connection was closed when the product closed its connection,
    # not pooled for the next client; a connection that stayed in public was pooled.
    pids = [pid for _, _, pid in oak_seen + river_seen]
    assert len(set(pids)) == len(pids) == 8
    assert public_pids[0] == public_pids[1]


@needs_pgbouncer
def test_transaction_mode_runs_one_clients_query_in_another_clients_school(oakfield, riverside):
    """Why DB_POOL_MODE=transaction is refused: the search_path one client set is what another
    client's next statement runs under, once PgBouncer hands them the same server connection."""
    database = connection.settings_dict
    with pgbouncer(pool_mode="transaction", pool_size=1) as port:
        clients = []
        for _ in range(2):
            client = psycopg2.connect(host="127.0.0.1", port=port, dbname=database["NAME"],
                                      user=database.get("USER") or "postgres")
            client.autocommit = True
            clients.append(client)
        oak_client, river_client = clients
        oak_client.cursor().execute(f'SET search_path = "{oakfield.school.schema_name}", public')
        river_client.cursor().execute(f'SET search_path = "{riverside.school.schema_name}", public')
        with oak_client.cursor() as cursor:
            cursor.execute(f"SELECT email FROM {User._meta.db_table}")
            emails = {row[0] for row in cursor.fetchall()}
        for client in clients:
            client.close()

    assert riverside.demo.head_email in emails
    assert oakfield.demo.head_email not in emails


def test_transaction_pool_mode_is_refused_at_start():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DB_POOL_MODE": "transaction"}
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode != 0
    assert "DB_POOL_MODE='transaction' is refused" in result.stderr
