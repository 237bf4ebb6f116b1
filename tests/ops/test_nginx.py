"""The shipped reverse proxy (ops/nginx/pupiltrack.conf), run by Debian's nginx with a throwaway
certificate in front of a live server of the product: TLS 1.0 and 1.1 refused, 1.2 and 1.3
served with HSTS for the vendor's host and each school's, plain HTTP redirected, oversized
bodies stopped at the door, and the product seeing the client's own address, not nginx's nor a
forged one (TRUSTED_PROXY_COUNT=1)."""

from __future__ import annotations

import json
import re
import ssl
import uuid
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import override_settings

from shared.audit.services import visit_buffer_key
from shared.redis_client import redis_client
from tests.edge import LoopbackHTTP, LoopbackHTTPS, client_context, needs_nginx, nginx_edge
from tests.helpers import product_served_in_thread

pytestmark = [pytest.mark.django_db, needs_nginx]

HSTS = "max-age=31536000; includeSubDomains"
BODY_LIMIT = 12 * 1024 * 1024  # client_max_body_size 12m
_HIDDEN = re.compile(rb'<input type="hidden" name="([^"]+)" value="([^"]*)"')


# What production sets (platform/config/settings/production.py): the product believes the proxy's
# X-Forwarded-Proto, redirects what is not https, and sends an HSTS header of its own.
AS_IN_PRODUCTION = override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
                                     SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=365 * 24 * 3600,
                                     SECURE_HSTS_INCLUDE_SUBDOMAINS=True)


@pytest.fixture(scope="module")
def edge(django_db_blocker, django_db_setup):
    """nginx in front of a live server of the product set up as in production, for the whole module."""
    with django_db_blocker.unblock(), AS_IN_PRODUCTION, product_served_in_thread() as port:
        names = [settings.BASE_DOMAIN, f"*.{settings.BASE_DOMAIN}",
                 *(school.hostname for school in settings.TEST_SCHOOLS.values())]
        with nginx_edge(upstream=f"127.0.0.1:{port}", names=names) as running:
            yield running


@pytest.fixture
def visits():
    """The visit buffer, emptied first; call it for the rows queued since, as tuples of
    (host, path, method, status, ip)."""
    redis_client().delete(visit_buffer_key())
    yield lambda: [tuple(json.loads(raw)[1:6]) for raw in redis_client().lrange(visit_buffer_key(), 0, -1)]
    redis_client().delete(visit_buffer_key())


def get(edge, host: str, path: str, *, version=ssl.TLSVersion.TLSv1_3, source="127.0.0.1", headers=None):
    connection = LoopbackHTTPS(host, edge.https_port, context=client_context(version, cafile=edge.cafile), source=source)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return connection.sock.version(), response, response.read()
    finally:
        connection.close()


def test_tls_1_0_and_1_1_are_refused_in_the_handshake(edge, visits):
    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        # Given a client that can speak the old protocol (a server that allows it answers it)
        control = LoopbackHTTPS("localhost", edge.old_tls_port, context=client_context(version, cafile=edge.cafile))
        control.request("GET", "/")
        assert control.getresponse().status == 200 and control.sock.version() == version.name.replace("_", ".")
        control.close()
        connection = LoopbackHTTPS(settings.BASE_DOMAIN, edge.https_port,
                                   context=client_context(version, cafile=edge.cafile))

        # When it meets the shipped configuration
        with pytest.raises(ssl.SSLError) as refusal:
            connection.connect()

        # Then nginx refuses the protocol, and the product hears nothing
        assert refusal.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION"
        connection.close()
    assert visits() == []


def test_tls_1_2_and_1_3_serve_the_vendors_host_and_each_school_with_hsts(edge, visits, oakfield, riverside):
    pages = [(settings.BASE_DOMAIN, "/console/login/", "Operator sign in"),
             (oakfield.hostname, "/accounts/login/", oakfield.school.name),
             (riverside.hostname, "/accounts/login/", riverside.school.name)]
    for version, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
        for host, path, text in pages:
            agreed, response, body = get(edge, host, path, version=version)

            # 200, not the product's redirect to https: it was told the scheme
            assert (agreed, response.status) == (name, 200)
            # one header, the proxy's: the product's own copy is dropped
            assert response.headers.get_all("Strict-Transport-Security") == [HSTS]
            assert text.encode() in body  # the host reached the product: each school gets its own site
    assert [row[:4] for row in visits()] == [(host, path, "GET", 200) for host, path, _ in pages] * 2


def test_plain_http_only_redirects_to_https(edge, visits, oakfield):
    connection = LoopbackHTTP(oakfield.hostname, edge.http_port)

    connection.request("GET", "/accounts/login/?next=/pupils/")
    response = connection.getresponse()

    assert response.status == 301
    assert response.headers["Location"] == f"https://{oakfield.hostname}/accounts/login/?next=/pupils/"
    assert visits() == []


def test_a_body_over_12_mb_is_refused_by_nginx_and_never_reaches_the_product(edge, visits, oakfield, settings):
    # Given a body of exactly the limit: it reaches the product (whose own, lower limit is lifted
    # here, so that what is shown is nginx's)
    settings.REQUEST_MAX_BYTES = 2 * BODY_LIMIT
    connection = LoopbackHTTPS(oakfield.hostname, edge.https_port,
                               context=client_context(ssl.TLSVersion.TLSv1_3, cafile=edge.cafile))
    connection.request("POST", "/accounts/login/", body=b"x" * BODY_LIMIT,
                       headers={"Content-Type": "application/octet-stream"})
    connection.getresponse().read()
    connection.close()
    assert [row[:3] for row in visits()] == [(oakfield.hostname, "/accounts/login/", "POST")]
    redis_client().delete(visit_buffer_key())
    oversized = LoopbackHTTPS(oakfield.hostname, edge.https_port,
                              context=client_context(ssl.TLSVersion.TLSv1_3, cafile=edge.cafile))

    # When one byte more is announced (nginx answers from the headers, before the body)
    oversized.putrequest("POST", "/accounts/login/")
    oversized.putheader("Content-Type", "application/octet-stream")
    oversized.putheader("Content-Length", str(BODY_LIMIT + 1))
    oversized.endheaders()
    response = oversized.getresponse()

    # Then
    assert response.status == 413
    assert response.headers.get_all("Strict-Transport-Security") == [HSTS]
    assert visits() == []
    oversized.close()


def test_the_visit_log_records_the_clients_address_not_nginxs_nor_a_forged_one(edge, visits, oakfield, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    get(edge, oakfield.hostname, "/accounts/login/", source="127.0.0.2", headers={"X-Forwarded-For": "6.6.6.6"})
    get(edge, settings.BASE_DOMAIN, "/console/login/", source="127.0.0.3",
        headers={"X-Forwarded-For": "6.6.6.6, 7.7.7.7"})

    assert visits() == [(oakfield.hostname, "/accounts/login/", "GET", 200, "127.0.0.2"),
                        (settings.BASE_DOMAIN, "/console/login/", "GET", 200, "127.0.0.3")]


def _failed_console_sign_in(edge, *, source: str) -> tuple[int, bytes]:
    """One sign-in with a wrong password for an address that has no account (so only the
    per-address count can refuse it), from ``source``; returns the status and page."""
    context = client_context(ssl.TLSVersion.TLSv1_3, cafile=edge.cafile)
    connection = LoopbackHTTPS(settings.BASE_DOMAIN, edge.https_port, context=context, source=source)
    try:
        connection.request("GET", "/console/login/")
        page = connection.getresponse()
        cookies = "; ".join(value.split(";", 1)[0] for name, value in page.getheaders() if name.lower() == "set-cookie")
        fields = {name.decode(): value.decode() for name, value in _HIDDEN.findall(page.read())}
        fields.update(username=f"nobody-{uuid.uuid4().hex[:8]}@example.org", password="wrong-password-1",
                      otp_token="000000")
        connection.request("POST", "/console/login/", body=urlencode(fields), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies,
            "Referer": f"https://{settings.BASE_DOMAIN}/console/login/"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_the_consoles_per_address_sign_in_limit_counts_the_clients_address_behind_nginx(edge, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_FAILURES_ALLOWED = 1  # so ten failures use up an address's allowance
    # A cache key prefix of this test's own: its counts neither meet nor outlive other tests'.
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-edge-{uuid.uuid4().hex[:8]}"}}
    per_address = settings.LOGIN_FAILURES_ALLOWED * 10
    # Given one address that has used up its failed sign-ins, through nginx
    statuses = [_failed_console_sign_in(edge, source="127.0.0.2")[0] for _ in range(per_address)]
    assert statuses == [200] * per_address
    assert _failed_console_sign_in(edge, source="127.0.0.2")[0] == 429

    # When another address, through the same nginx, signs in
    status, page = _failed_console_sign_in(edge, source="127.0.0.3")

    # Then it is not refused for the first one's failures: the limit counts the client, not nginx
    assert status == 200
    assert b"Too many failed sign-ins" not in page
