"""Small helpers shared by tests."""

from __future__ import annotations

import contextlib
import re
import socket

from django.conf import settings
from django.db import connections
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from ops.demo import DEMO_OPERATORS, DEMO_PASSWORD
from shared.submit_once import FORM_TOKEN_FIELD, new_form_token

_FORM_TOKEN = re.compile(rb'name="form_token" value="([0-9a-f]{32})"')


class FormClient(Client):
    """Posts a form as a browser posts a rendered one: with a fresh submit-once token, unless the
    test gives its own (or ``form_token=False``, to post none). Every POST form of every template
    carries the token (tests/shared/test_submit_once.py checks them all)."""

    def post(self, path, data=None, content_type=None, *args, form_token: bool = True, **kwargs):
        if form_token and content_type is None and (data is None or isinstance(data, dict)) \
                and FORM_TOKEN_FIELD not in (data or {}):
            data = {**(data or {}), FORM_TOKEN_FIELD: new_form_token()}
        if content_type is not None:
            kwargs["content_type"] = content_type
        return super().post(path, data, *args, **kwargs)


def host_client(host: str, **kwargs) -> FormClient:
    """A test client whose requests go to ``host``, as a browser's would."""
    return FormClient(HTTP_HOST=host, **kwargs)


def current_code(email: str) -> str:
    """A code the authenticator of ``email`` (an operator, or a school user inside their school's
    schema) would accept now. A code is accepted once, so when this
    step's code was already used (an earlier sign-in within 30 seconds), give the next step's,
    which the device's one-step tolerance accepts."""
    device = TOTPDevice.objects.get(user__email=email)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if device.last_t >= totp.t():
        totp.time += device.step * (device.last_t + 1 - totp.t())
    return f"{totp.token():0{device.digits}d}"


def console_client(role: str) -> Client:
    """A client signed in to the console, code and all, as the demo operator with ``role``."""
    email = DEMO_OPERATORS[role][0]
    client = host_client(settings.BASE_DOMAIN)
    response = client.post("/console/login/", {"username": email, "password": DEMO_PASSWORD, "otp_token": current_code(email)})
    assert response.status_code == 302, response.content[:2000]
    return client


def school_client(school, email: str, password: str = DEMO_PASSWORD, **kwargs) -> Client:
    """A client signed in to a seeded school's site as ``email``, with the code step where the
    account has a second factor (every school admin does)."""
    client = host_client(school.hostname, **kwargs)
    response = client.post("/accounts/login/", {"username": email, "password": password})
    assert response.status_code == 302, response.content[:2000]
    if response["Location"] == "/accounts/login/code/":
        with schema_context(school.school.schema_name):
            code = current_code(email)
        response = client.post("/accounts/login/code/", {"code": code})
        assert response.status_code == 302, response.content[:2000]
    return client


def form_token(response) -> str:
    """The submit-once token of the (first) form on a page."""
    match = _FORM_TOKEN.search(response.content)
    assert match, "no form token on the page"
    return match.group(1).decode()


@contextlib.contextmanager
def committed(schema_name: str = "public"):
    """A cursor on a connection of its own, outside the test's transaction, in ``schema_name``:
    for data another process must see, or that a browser committed through the live server."""
    own = connections.create_connection("default")
    try:
        own.set_autocommit(True)
        own.set_schema(schema_name) if schema_name != "public" else own.set_schema_to_public()
        with own.cursor() as cursor:
            yield cursor
    finally:
        own.close()


def rows_written(*, besides: tuple[str, ...] = ()) -> int:
    """Rows inserted, updated or deleted so far in the test's transaction, in every schema (PostgreSQL's
    own per-transaction counters): equal before and after shows that a refused request wrote nothing.
    ``besides`` names tables left out (a record that a refusal is meant to leave)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables "
                       "WHERE NOT (relname = ANY(%s))", [list(besides)])
        return int(cursor.fetchone()[0])


def process_stop(process, *, timeout: float = 10) -> None:
    """Stops a server a test started: SIGTERM, then SIGKILL if it has not gone within ``timeout``."""
    import signal
    import subprocess

    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def product_served_in_thread():
    """The product served by a thread of this process on a free loopback port (static files too);
    yields the port. Its database connections see what the tests committed."""
    from django.test.testcases import LiveServerThread, _StaticFilesHandler

    thread = LiveServerThread("127.0.0.1", static_handler=_StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield thread.port
    finally:
        thread.terminate()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
