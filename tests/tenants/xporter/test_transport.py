"""The Xporter client's transport in production: https only, refused before anything is sent
otherwise; TLS 1.2 or newer, here through the shipped nginx with a throwaway certificate in
front of the fake Xporter."""

from __future__ import annotations

import pytest
import requests

from ops.xporter_fake import FakeSchool, FakeXporter, documented, serve_in_thread
from tenants.xporter.client import XporterClient, XporterError
from tests.edge import nginx_edge

ESTAB = "3310002"


@pytest.fixture(scope="module")
def xporter():
    school = FakeSchool(estab=ESTAB, pupils=2)
    app = FakeXporter([school])
    base_url, server = serve_in_thread(app)
    yield school, app, base_url
    server.shutdown()


@pytest.fixture(scope="module")
def edge(xporter):
    with nginx_edge(upstream=xporter[2].removeprefix("http://"), names=["localhost"]) as running:
        yield running


@pytest.fixture
def requests_seen(xporter):
    _, app, _ = xporter
    app.requests.clear()
    return app.requests


@pytest.fixture
def own_trust(monkeypatch):
    """The client's own CA bundle counts: requests would prefer the machine's REQUESTS_CA_BUNDLE."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


def test_in_production_an_http_base_url_is_refused_before_any_request(xporter, requests_seen, settings):
    school, _, base_url = xporter
    settings.PRODUCTION = True

    with pytest.raises(XporterError) as refusal:
        XporterClient(base_url=base_url, estab=ESTAB, relying_party="pt", password=school.password)

    assert str(refusal.value) == (f"Xporter: {base_url!r} is not an https:// URL; "
                                  f"in production every outgoing connection uses TLS")
    assert requests_seen == []


def test_in_production_the_client_fetches_over_tls_through_the_proxy(xporter, edge, requests_seen, settings, own_trust):
    school, _, _ = xporter
    settings.PRODUCTION = True
    client = XporterClient(base_url=f"https://localhost:{edge.https_port}", estab=ESTAB, relying_party="pt",
                           password=school.password)
    client.session.verify = str(edge.cafile)

    result = client.fetch("SchoolInfo")

    assert result.rows == documented(school, "SchoolInfo")["SchoolInfo"]
    assert (result.rows[0]["EstabId"], result.rows[0]["Name"]) == (ESTAB, f"School {ESTAB}")
    assert requests_seen == ["POST /api/oauth/GetToken", f"GET /api/v1/School/{ESTAB}/SchoolInfo/"]


def test_the_client_refuses_an_xporter_offering_only_tls_1_1(xporter, edge, requests_seen, settings, own_trust):
    school, _, _ = xporter
    settings.PRODUCTION = True
    client = XporterClient(base_url=f"https://localhost:{edge.old_tls_port}", estab=ESTAB, relying_party="pt",
                           password=school.password, retries=0)
    client.session.verify = str(edge.cafile)

    with pytest.raises(requests.exceptions.SSLError, match="TLSV1_ALERT_PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL"):
        client.fetch("SchoolInfo")

    assert requests_seen == []
