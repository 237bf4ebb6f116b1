"""The outgoing-connection policy: TLS 1.2 or newer with the certificate checked, and in
production no plain HTTP and no mail in clear. The handshakes are real: HTTPS against Debian's
nginx (tests/edge.py), mail against a STARTTLS conversation of a few lines."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import warnings

import pytest
import requests

from ops.xporter_fake import FakeSchool, FakeXporter, serve_in_thread
from shared.outgoing import (
    InsecureConnectionRefused,
    OutgoingEmailBackend,
    outgoing_session,
    outgoing_ssl_context,
    outgoing_url_check,
)
from tests.edge import LoopbackHTTPS, client_context, nginx_edge, throwaway_certificate


@pytest.fixture(scope="module")
def edge():
    """The shipped nginx, with the fake Xporter behind it as any upstream would do."""
    app = FakeXporter([FakeSchool(estab="3310001", pupils=1)])
    base_url, server = serve_in_thread(app)
    try:
        with nginx_edge(upstream=base_url.removeprefix("http://"), names=["localhost"]) as running:
            yield running
    finally:
        server.shutdown()


@pytest.fixture
def own_trust(monkeypatch):
    """A session's own CA bundle counts: requests would prefer the machine's REQUESTS_CA_BUNDLE."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture
def listener():
    """A port that is listening and records whether anyone connected."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        sock.setblocking(False)
        yield sock


def nobody_connected(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return True
    return False


def test_the_context_checks_the_certificate_and_the_host_name_and_needs_tls_1_2():
    context = outgoing_ssl_context()

    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname is True
    assert outgoing_ssl_context() is not context  # one each: a client's extra trust stays its own


def test_the_sessions_https_connections_use_that_context():
    adapter = outgoing_session().get_adapter("https://xporter.example/")

    assert adapter.poolmanager.connection_pool_kw["ssl_context"] is adapter.ssl_context
    assert adapter.ssl_context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_in_production_plain_http_is_refused_before_any_connection(settings, listener):
    settings.PRODUCTION = True
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/api/oauth/GetToken"

    with pytest.raises(InsecureConnectionRefused, match="is not an https:// URL"):
        outgoing_url_check(url, service="Xporter")
    with pytest.raises(InsecureConnectionRefused, match=r"127\.0\.0\.1: plain http:// is refused in production"):
        outgoing_session().post(url, data={"password": "secret"}, timeout=5)

    assert nobody_connected(listener)


def test_outside_production_plain_http_is_allowed(settings):
    settings.PRODUCTION = False

    outgoing_url_check("http://127.0.0.1:8765", service="Xporter")  # the local fake Xporter

    assert type(outgoing_session().get_adapter("http://127.0.0.1:8765/")) is requests.adapters.HTTPAdapter


def test_certificate_checks_cannot_be_turned_off(listener):
    with pytest.raises(InsecureConnectionRefused, match="certificate checks are never turned off"):
        outgoing_session().get(f"https://127.0.0.1:{listener.getsockname()[1]}/", verify=False, timeout=5)

    assert nobody_connected(listener)


def test_a_tls_1_2_or_1_3_server_with_a_trusted_certificate_is_reached(edge, own_trust):
    session = outgoing_session()
    session.verify = str(edge.cafile)  # a CA bundle path: trusted on top of the system's

    response = session.get(f"https://localhost:{edge.https_port}/api/oauth/GetToken", timeout=10)

    # The fake answers a GET to the token route as Web API does to a route it has not: 404 with a Message.
    assert response.status_code == 404
    assert response.json() == {"Message": "No HTTP resource was found that matches /api/oauth/GetToken"}
    context = session.get_adapter("https://localhost/").ssl_context
    with socket.create_connection(("127.0.0.1", edge.https_port), timeout=10) as sock, \
            context.wrap_socket(sock, server_hostname="localhost") as tls:
        assert tls.version() == "TLSv1.3"


def test_a_server_offering_only_tls_1_1_is_refused(edge, own_trust):
    # Given a server that does speak TLS 1.1 (OpenSSL on this machine still can, at security level 0)
    control = LoopbackHTTPS("localhost", edge.old_tls_port, context=client_context(ssl.TLSVersion.TLSv1_1,
                                                                                   cafile=edge.cafile))
    control.request("GET", "/")
    assert control.getresponse().status == 200
    control.close()
    session = outgoing_session()
    session.verify = str(edge.cafile)

    # When the policy's client meets it, Then the handshake fails on the protocol
    with pytest.raises(requests.exceptions.SSLError, match="TLSV1_ALERT_PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL"):
        session.get(f"https://localhost:{edge.old_tls_port}/", timeout=10)


def test_a_certificate_nobody_vouches_for_is_refused(edge):
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        outgoing_session().get(f"https://localhost:{edge.https_port}/", timeout=10)


@contextlib.contextmanager
def starttls_server(context: ssl.SSLContext):
    """One SMTP conversation, just far enough to test the handshake: greeting, EHLO offering
    STARTTLS (RFC 3207), the handshake with ``context``, EHLO and QUIT. Yields (port, what the
    server saw: the agreed TLS version or OpenSSL's reason for refusing)."""
    seen: dict[str, str] = {}
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def converse():
        with contextlib.suppress(OSError), listener.accept()[0] as conn:
            conn.settimeout(10)
            plain = conn.makefile("rwb")
            for reply in (b"220 mail.test ESMTP\r\n", b"250-mail.test\r\n250 STARTTLS\r\n", b"220 Go ahead\r\n"):
                plain.write(reply)
                plain.flush()
                if not reply.startswith(b"220 Go"):
                    plain.readline()
            try:
                tls = context.wrap_socket(conn, server_side=True)
            except ssl.SSLError as refusal:
                seen["tls"] = refusal.reason
                return
            seen["tls"] = tls.version()
            secure = tls.makefile("rwb")
            for reply in (b"250 mail.test\r\n", b"221 Bye\r\n"):
                secure.readline()
                secure.write(reply)
                secure.flush()

    thread = threading.Thread(target=converse, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], seen
    finally:
        thread.join(timeout=10)
        listener.close()


@pytest.fixture
def certificate(tmp_path):
    return throwaway_certificate(tmp_path, ["localhost"])


def server_context(certificate, *, only: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    if only is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # naming TLS 1.1 is the point here
            context.minimum_version = context.maximum_version = only
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def test_mails_context_is_the_policys():
    backend = OutgoingEmailBackend(host="localhost", port=25, use_tls=True)

    assert backend.ssl_context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert backend.ssl_context.verify_mode == ssl.CERT_REQUIRED and backend.ssl_context.check_hostname is True


def test_in_production_mail_without_tls_is_refused_before_connecting(settings, listener):
    settings.PRODUCTION = True
    backend = OutgoingEmailBackend(host="127.0.0.1", port=listener.getsockname()[1], use_tls=False, use_ssl=False)

    with pytest.raises(InsecureConnectionRefused, match="mail to 127.0.0.1: set EMAIL_USE_TLS or EMAIL_USE_SSL"):
        backend.open()

    assert backend.connection is None and nobody_connected(listener)


def test_mail_starts_tls_1_2_or_newer_with_a_trusted_certificate(settings, certificate):
    settings.PRODUCTION = True
    with starttls_server(server_context(certificate)) as (port, seen):
        backend = OutgoingEmailBackend(host="localhost", port=port, use_tls=True, timeout=10)
        backend.ssl_context.load_verify_locations(certificate[0])

        assert backend.open() is True
        backend.close()

    assert seen == {"tls": "TLSv1.3"}


def test_mail_refuses_a_server_offering_only_tls_1_1(certificate):
    with starttls_server(server_context(certificate, only=ssl.TLSVersion.TLSv1_1)) as (port, seen):
        backend = OutgoingEmailBackend(host="localhost", port=port, use_tls=True, timeout=10)
        backend.ssl_context.load_verify_locations(certificate[0])

        with pytest.raises(ssl.SSLError):
            backend.open()

    assert backend.connection is None
    assert seen["tls"] in {"UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION"}
