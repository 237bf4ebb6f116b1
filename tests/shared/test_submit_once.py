"""Submit-once tokens on every state-changing form of both sites: every POST form carries one, a
POST without one is refused, and one token has one effect however often, and however concurrently,
it is posted."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
import requests
from django.contrib.sessions.models import Session
from django_tenants.utils import schema_context

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.submit_once import ALREADY_SUBMITTED_MESSAGE, MISSING_TOKEN_MESSAGE
from tenants.pupils.models import Pupil
from tenants.rights.models import Consent, SchoolRequest
from tests.helpers import committed, current_code, form_token, host_client, school_client

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]
_POST_FORM = re.compile(r"<form\b[^>]*\bmethod=\"post\"[^>]*>(.*?)</form>", re.S | re.I)


def templates() -> list[Path]:
    return sorted(path for folder in ("platform", "shared", "tenants") for path in (REPO_ROOT / folder).rglob("*.html")
                  if "/templates/" in str(path))


def test_every_post_form_in_every_template_carries_the_token():
    forms = [(path.relative_to(REPO_ROOT), body) for path in templates()
             for body in _POST_FORM.findall(path.read_text())]

    missing = [str(path) for path, body in forms if "{% submit_once_token %}" not in body]

    assert len(forms) >= 50  # both sites' forms were found
    assert missing == []


def signed_in_head(school, password):
    return school_client(school, school.demo.head_email, password)


def request_data(school) -> dict:
    with schema_context(school.school.schema_name):
        pupil = Pupil.objects.order_by("pk").first()
    return {"kind": "access", "subject": f"pupil:{pupil.pk}", "requester_name": "A Parent",
            "requester_email": "parent@example.org", "received_on": clock.today().isoformat(), "details": ""}


def test_a_school_site_post_without_a_token_is_refused_and_saves_nothing(oakfield, password):
    client = signed_in_head(oakfield, password)
    with schema_context(oakfield.school.schema_name):
        before = SchoolRequest.objects.count()

    response = client.post("/rights/", request_data(oakfield), form_token=False)
    forged = client.post("/rights/", {**request_data(oakfield), "form_token": "not-a-token"})

    assert response.status_code == 400 and response.content.decode() == MISSING_TOKEN_MESSAGE
    assert forged.status_code == 400
    with schema_context(oakfield.school.schema_name):
        assert SchoolRequest.objects.count() == before


def test_a_school_site_form_sent_twice_records_once(oakfield, password):
    client = signed_in_head(oakfield, password)
    data = {**request_data(oakfield), "form_token": form_token(client.get("/rights/"))}
    with schema_context(oakfield.school.schema_name):
        before = SchoolRequest.objects.count()

    first = client.post("/rights/", data)
    second = client.post("/rights/", data, HTTP_REFERER=f"http://{oakfield.hostname}/rights/")

    assert first.status_code == 302 and first["Location"].startswith("/rights/")
    assert second.status_code == 302 and second["Location"] == f"http://{oakfield.hostname}/rights/"
    assert ALREADY_SUBMITTED_MESSAGE.encode() in client.get("/rights/").content
    with schema_context(oakfield.school.schema_name):
        assert SchoolRequest.objects.count() == before + 1


def test_a_form_sent_back_with_errors_can_be_corrected_and_sent_with_its_token(oakfield, password):
    client = signed_in_head(oakfield, password)
    token = form_token(client.get("/rights/"))
    with schema_context(oakfield.school.schema_name):
        before = SchoolRequest.objects.count()

    bad = client.post("/rights/", {**request_data(oakfield), "requester_name": "", "form_token": token})
    good = client.post("/rights/", {**request_data(oakfield), "form_token": token})

    assert bad.status_code == 200 and b"This field is required" in bad.content
    assert good.status_code == 302
    with schema_context(oakfield.school.schema_name):
        assert SchoolRequest.objects.count() == before + 1


def test_signing_in_needs_no_token(oakfield, password):
    client = host_client(oakfield.hostname)

    response = client.post("/accounts/login/", {"username": oakfield.demo.head_email, "password": password},
                           form_token=False)

    assert response.status_code == 302


# --- Five concurrent copies of one submission, through a real server -------------------------------

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class _Browser:
    """A session on the live server for one school's host (its requests go to 127.0.0.1 with the
    school's Host header, so no name resolution is needed)."""

    def __init__(self, server: str, school):
        self.base = f"http://127.0.0.1:{server.rsplit(':', 1)[1]}"
        self.host = f"{school.hostname}:{server.rsplit(':', 1)[1]}"
        self.session = requests.Session()

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base + path, headers={"Host": self.host}, timeout=30, allow_redirects=False)

    def post(self, path: str, data: dict) -> requests.Response:
        return self.session.post(self.base + path, data=data, headers={"Host": self.host}, timeout=30,
                                 allow_redirects=False)

    def form(self, path: str) -> dict:
        page = self.get(path).text
        return {"csrfmiddlewaretoken": _CSRF.search(page).group(1),
                "form_token": re.search(r'name="form_token" value="([0-9a-f]{32})"', page).group(1)}


def _post_concurrently(browser: _Browser, path: str, data: dict, copies: int = 5) -> list[int]:
    barrier = threading.Barrier(copies)
    statuses: list[int] = []

    def send():
        barrier.wait()
        statuses.append(browser.post(path, data).status_code)

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


@pytest.fixture
def committed_rows(oakfield):
    """Whatever the live server commits in Oakfield's schema and the change log: removed afterwards."""
    schema = oakfield.school.schema_name
    tables = [SchoolRequest._meta.db_table, Consent._meta.db_table, Session._meta.db_table]

    def high_water():
        with committed(schema) as cursor:
            marks = {}
            for table in tables[:2]:
                cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
                marks[table] = cursor.fetchone()[0]
            cursor.execute(f"SELECT session_key FROM {tables[2]}")
            marks["sessions"] = {row[0] for row in cursor.fetchall()}
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM public.{ChangeLogEntry._meta.db_table}")
            marks["change_log"] = cursor.fetchone()[0]
            return marks

    def rows_since(marks, table):
        with committed(schema) as cursor:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE id > %s", [marks[table]])
            return cursor.fetchone()[0]

    marks = high_water()
    yield lambda model: rows_since(marks, model._meta.db_table)
    with committed(schema) as cursor:
        for table in tables[:2]:
            cursor.execute(f"DELETE FROM {table} WHERE id > %s", [marks[table]])
        cursor.execute(f"DELETE FROM {tables[2]} WHERE NOT (session_key = ANY(%s))", [list(marks["sessions"])])
        cursor.execute(f"DELETE FROM public.{ChangeLogEntry._meta.db_table} WHERE id > %s", [marks["change_log"]])


def test_five_concurrent_copies_of_a_rights_request_and_a_consent_record_one_each(
        oakfield, password, site_server, committed_rows):
    browser = _Browser(site_server, oakfield)
    login = browser.form("/accounts/login/")
    signed_in = browser.post("/accounts/login/", {**login, "username": oakfield.demo.head_email, "password": password})
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith("/accounts/login/code/")
    with schema_context(oakfield.school.schema_name):
        code = current_code(oakfield.demo.head_email)
        pupil = Pupil.objects.order_by("pk").first()
    assert browser.post("/accounts/login/code/", {**browser.form("/accounts/login/code/"), "code": code}).status_code == 302
    today = clock.today().isoformat()

    request_statuses = _post_concurrently(browser, "/rights/", {
        **browser.form("/rights/"), "kind": "objection", "subject": f"pupil:{pupil.pk}",
        "requester_name": "A Parent", "requester_email": "", "received_on": today, "details": ""})
    consent_statuses = _post_concurrently(browser, "/rights/consents/", {
        **browser.form("/rights/consents/"), "subject": f"pupil:{pupil.pk}", "purpose": "Photographs on reports",
        "given_on": today})

    assert request_statuses == [302] * 5 and consent_statuses == [302] * 5  # four of each told "already submitted"
    assert committed_rows(SchoolRequest) == 1
    assert committed_rows(Consent) == 1


def test_a_console_post_without_a_token_is_refused_and_saves_nothing(oakfield):
    from shared.clients.models import Contact
    from shared.operators.models import Operator
    from tests.helpers import console_client

    client = console_client(Operator.Role.ADMINISTRATOR)
    before = Contact.objects.count()

    response = client.post(f"/console/clients/{oakfield.school.pk}/contacts/new/", {"full_name": "No Token"},
                           form_token=False)

    assert response.status_code == 400
    assert Contact.objects.count() == before


SIGN_IN_VIEWS = {"login", "logout", "set_password", "password_reset_confirm", "console_password_reset_confirm"}  # a second submission does no harm (shared.submit_once)


def _every_path(urlconf: str) -> dict[str, str]:
    from django.urls import URLPattern, get_resolver, reverse

    paths = {}
    for pattern in get_resolver(urlconf).url_patterns:
        if isinstance(pattern, URLPattern):  # the raw data view (an include) changes nothing and has no forms
            kwargs = {name: 1 if converter.regex == "[0-9]+" else "x"
                      for name, converter in pattern.pattern.converters.items()}
            paths[pattern.name] = reverse(pattern.name, urlconf=urlconf, kwargs=kwargs)
    return paths


def test_every_view_of_both_sites_refuses_a_post_without_a_token(oakfield, password):
    from django.conf import settings

    from shared.operators.models import Operator
    from tests.helpers import console_client

    operator = console_client(Operator.Role.ADMINISTRATOR)
    head = signed_in_head(oakfield, password)
    sites = [(operator, _every_path(settings.PUBLIC_SCHEMA_URLCONF)), (head, _every_path(settings.ROOT_URLCONF))]

    refused, let_through = [], []
    for client, paths in sites:
        for name, path in paths.items():
            if name in SIGN_IN_VIEWS:
                continue
            response = client.post(path, {}, form_token=False)
            (refused if response.status_code == 400 and response.content.decode() == MISSING_TOKEN_MESSAGE
             else let_through).append(name)

    assert let_through == []
    assert len(refused) > 60
