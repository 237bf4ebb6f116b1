"""Secret-bearing URLs (one-time export links, set-password links) never reach a log or the visit
log, and a HEAD request (a mail scanner's, a link preview's) does not use up an export link."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver
from django_tenants.utils import schema_context

from config.redaction import SECRET_ROUTES, path_redact, secrets_redact
from shared import clock
from shared.audit import services as technical
from shared.changes import Actor
from shared.clients import last_use
from shared.privacy.requests.services import request_start
from shared.redis_client import redis_client
from tenants.pupils.models import Pupil
from tenants.rights import services
from tenants.rights.models import ExportLink, SchoolRequest
from tenants.users.models import User
from tests.helpers import host_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_buffer():
    redis_client().delete(technical.visit_buffer_key())
    yield
    redis_client().delete(technical.visit_buffer_key())


def export_link(school) -> tuple[int, str]:
    """A fresh one-time export link of ``school``: (link id, token)."""
    with schema_context(school.school.schema_name):
        head = User.objects.get(email=school.demo.head_email)
        request = services.school_request_receive(user=head, kind=SchoolRequest.Kind.ACCESS,
                                                  requester_name="A Parent", subject=Pupil.objects.first())
        request = request_start(actor=Actor.school_user(head, school.school.schema_name), request=request)
        link, token = services.export_build(user=head, request=request)
    return link.pk, token


def downloaded_at(school, link_id: int):
    with schema_context(school.school.schema_name):
        return ExportLink.objects.get(pk=link_id).downloaded_at


def test_a_head_request_leaves_the_export_link_for_the_get(oakfield):
    link_id, token = export_link(oakfield)
    person = host_client(oakfield.hostname)

    head = person.head(f"/rights/exports/{token}/")
    posted = person.post(f"/rights/exports/{token}/")

    assert head.status_code == 200 and head["Content-Type"].startswith("text/html") and head.content == b""
    assert head["Cache-Control"] == "no-store"
    assert posted.status_code == 405
    assert downloaded_at(oakfield, link_id) is None
    got = person.get(f"/rights/exports/{token}/")
    assert got.status_code == 200 and got["Content-Type"] == "application/zip" and got.content[:2] == b"PK"
    assert downloaded_at(oakfield, link_id) is not None
    assert person.get(f"/rights/exports/{token}/").status_code == 410


def test_an_export_link_leaves_its_token_in_no_log_and_no_visit(oakfield, caplog, capfd):
    _, token = export_link(oakfield)
    person = host_client(oakfield.hostname)
    caplog.set_level(logging.DEBUG)

    person.head(f"/rights/exports/{token}/")
    person.get(f"/rights/exports/{token}/")
    person.get(f"/rights/exports/{token}")  # no trailing slash: not the view, still the secret
    # What Django's own loggers write with the path: runserver's request line, a server error.
    logging.getLogger("django.server").info('"%s %s HTTP/1.1" %s', "GET", f"/rights/exports/{token}/", 200)
    logging.getLogger("django.request").error("Internal Server Error: %s", f"/rights/exports/{token}/")
    buffered = b"".join(redis_client().lrange(technical.visit_buffer_key(), 0, -1)).decode()
    last_use.visits_flush()

    with connection.cursor() as cursor:
        cursor.execute("SELECT path FROM public.technical_visit WHERE host = %s ORDER BY occurred_at DESC LIMIT 3",
                       [oakfield.hostname])
        paths = [row[0] for row in cursor.fetchall()]
    out, err = capfd.readouterr()
    assert paths == ["/rights/exports/<token>/"] * 3
    assert token not in buffered
    assert token not in caplog.text and not any(token in str(record.msg) for record in caplog.records)
    assert token not in out + err
    assert '"GET /rights/exports/<token>/ HTTP/1.1" 200' in caplog.text
    assert "Internal Server Error: /rights/exports/<token>/" in caplog.text


def test_set_password_links_are_redacted_from_logs_as_well(oakfield, caplog):
    caplog.set_level(logging.INFO)

    logging.getLogger("django.server").info('"GET /accounts/set-password/MQ/abc-secrettoken/ HTTP/1.1" 200')
    import structlog
    structlog.get_logger("test").info("link.sent", url="https://oakfield.localhost/accounts/set-password/MQ/abc-secret2/")

    assert "secrettoken" not in caplog.text and "secret2" not in caplog.text
    assert caplog.text.count("/accounts/set-password/<uidb64>/<token>/") == 2


def test_redaction_replaces_the_secret_and_nothing_else():
    assert secrets_redact("GET /rights/exports/AbC-_12/ HTTP/1.1") == "GET /rights/exports/<token>/ HTTP/1.1"
    assert secrets_redact("http://oakfield.localhost/rights/exports/AbC") == "http://oakfield.localhost/rights/exports/<token>/"
    assert secrets_redact("/accounts/set-password/done/") == "/accounts/set-password/done/"
    assert secrets_redact("/rights/exports/") == "/rights/exports/"
    assert secrets_redact("/rights/12/") == "/rights/12/"
    assert path_redact("/anything/", "set_password") == "/accounts/set-password/<uidb64>/<token>/"


def _routes(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield entry.name, prefix + str(entry.pattern), set(getattr(entry.pattern, "converters", {}))


def test_every_url_with_a_token_in_it_is_in_the_registry_with_its_route(settings):
    secretish = {"token", "uidb64", "uid", "key", "secret", "code", "signature"}
    found = {}
    for urlconf in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF):
        for name, route, parameters in _routes(get_resolver(urlconf)):
            if parameters & secretish or any("token" in p for p in parameters):
                found[name] = route

    assert found == SECRET_ROUTES


def test_the_clock_names_the_export_file(oakfield, monkeypatch):
    import datetime as dt

    _, token = export_link(oakfield)
    monkeypatch.setattr(clock, "today", lambda: dt.date(2031, 2, 28))

    response = host_client(oakfield.hostname).get(f"/rights/exports/{token}/")

    assert response["Content-Disposition"].endswith('-20310228.zip"')
