"""The outgoing-connection policy: TLS 1.2 or newer with the certificate checked, and in
production no plain HTTP; the handshakes are real, against Debian's nginx (tests/edge.py)."""

from __future__ import annotations

import socket
import ssl

import pytest
import requests

from ops.xporter_fake import FakeSchool, FakeXporter, serve_in_thread
from shared.outgoing import InsecureConnectionRefused, outgoing_session, outgoing_ssl_context, outgoing_url_check
from tests.edge import LoopbackHTTPS, client_context, nginx_edge


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

    assert response.status_code == 404 and response.json() == {"ExceptionMessage": "No route /api/oauth/GetToken"}
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
