"""Every URL of the school site and the console, as every role and anonymously, with hostile path and
query values and random form bodies: no response is a 5xx, and a refused request changes nothing.

Two passes: a sweep that sends every pattern a fixed set of hostile values (so every URL is reached on
every run), then hypothesis drawing at random on top. Each request runs in a savepoint rolled back
afterwards, so one request's writes never shape the next; "changes nothing" is read from PostgreSQL's
own per-transaction counters of inserted, updated and deleted rows, across every schema.
``FUZZ_EXAMPLES`` sets hypothesis's examples per role (default 30; the whole file takes about a minute).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ops.demo import DEMO_OPERATORS
from shared.support.models import SupportAccessLog
from tests.helpers import console_client, host_client, rows_written, school_client

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
SCHOOL_ROLES = ["anonymous", "school_admin", "teacher", "parent", "pupil"]
CONSOLE_ROLES = ["anonymous", *[str(role) for role in DEMO_OPERATORS]]

# Values people and scanners send: NUL, broken percent-escapes and UTF-8, numbers out of every range,
# dates that do not exist, markup, traversal, very long strings.
HOSTILE = ["0", "-1", "1", "99999999999999999999999", "9223372036854775808", "%00", "a%00b", "%zz", "%",
           "%ff%fe", "%c3%28", "%ed%a0%80", "1e400", "NaN", "-Infinity", "2025-02-30", "9999-12-31",
           "0000-00-00", "<script>x</script>", "..%2f..%2fetc%2fpasswd", "'%20OR%201=1--", "x" * 5000]
BODY_VALUES = HOSTILE + ["\x00", "a\x00b", "\u202e", "-0", "1" * 400]
QUERY_KEYS = ["page", "q", "date", "pupil", "grade", "aspect", "group", "year", "subject", "status", "next",
              "sort", "kind", "role", "category", "as_of", "school", "month", "measure", "characteristic"]


def _template_field_names() -> list[str]:
    names = set()
    for template in REPO_ROOT.glob("**/templates/**/*.html"):
        if ".venv" not in template.parts:
            names.update(re.findall(r'name="([a-z_][a-z0-9_-]*)"', template.read_text()))
    return sorted(names | set(QUERY_KEYS))


FIELD_NAMES = _template_field_names()


@dataclass(frozen=True)
class Route:
    name: str
    parts: tuple[str | None, ...]  # literal text, and None where a converter's value goes

    def path(self, values) -> str:
        values = iter(values)
        return "".join(part if part is not None else next(values) for part in self.parts)

    @property
    def holes(self) -> int:
        return sum(part is None for part in self.parts)


def _routes(urlconf: str) -> list[Route]:
    found = []

    def walk(patterns, prefix: tuple):
        for entry in patterns:
            parts = prefix + _pattern_parts(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, parts)
            elif isinstance(entry, URLPattern):
                found.append(Route(name=entry.name or entry.lookup_str, parts=("/",) + parts))

    walk(get_resolver(urlconf).url_patterns, ())
    return found


def _pattern_parts(pattern) -> tuple:
    text = getattr(pattern, "_route", None)
    if text is None:  # a regular expression (the admin's): keep its literal text, a hole for each group
        text = pattern._regex.lstrip("^").rstrip("$").replace("\\Z", "")
        text = re.sub(r"\(\?P<\w+>[^)]*\)|\([^)]*\)", "<x>", text)
        text = text.replace("\\", "")
    pieces = re.split(r"<[^>]+>", text)
    parts = []
    for index, piece in enumerate(pieces):
        if piece:
            parts.append(piece)
        if index < len(pieces) - 1:
            parts.append(None)
    return tuple(parts)


SCHOOL_ROUTES = _routes(settings.ROOT_URLCONF)
CONSOLE_ROUTES = _routes(settings.PUBLIC_SCHEMA_URLCONF)


# A refusal that is meant to leave a record: the support guard logs every refused attempt.
REFUSAL_RECORDS = (SupportAccessLog._meta.db_table,)


def send(client, method: str, path: str, body: dict | None = None):
    """One request inside a savepoint rolled back afterwards; fails on a 5xx, and on a refusal that
    wrote anything. The client's cookies (its signed-in session) are kept as they were."""
    cookies = client.cookies
    client.cookies = type(cookies)(cookies)
    savepoint = transaction.savepoint()
    try:
        before = rows_written(besides=REFUSAL_RECORDS)
        response = client.post(path, body or {}) if method == "POST" else client.get(path)
        written = rows_written(besides=REFUSAL_RECORDS) - before
    finally:
        transaction.savepoint_rollback(savepoint)
        connection.set_schema_to_public()
        client.cookies = cookies
    assert response.status_code < 500, f"{method} {path} {body!r}: {response.status_code}"
    if response.status_code >= 400:
        assert written == 0, f"{method} {path} {body!r}: refused ({response.status_code}) yet wrote {written} rows"
    return response


def role_client(site: str, role: str, oakfield):
    if site == "school":
        if role == "anonymous":
            return host_client(oakfield.hostname)
        demo = oakfield.demo
        email = {"school_admin": demo.head_email, "teacher": demo.teacher_email, "parent": demo.parent_email,
                 "pupil": demo.pupil_email}[role]
        return school_client(oakfield, email)
    return host_client(settings.BASE_DOMAIN) if role == "anonymous" else console_client(role)


def sweep_requests(routes: list[Route]):
    """Each route with hostile values in its path, query and body. The NUL refusal is one check for
    every request (config.middleware), so NUL is sent once per route and the other values get past it.
    The raw-data admin's hundred generic model pages get one value each; hypothesis reaches the rest."""
    query = "&".join(f"{key}={HOSTILE[i % len(HOSTILE)]}" for i, key in enumerate(QUERY_KEYS) if "%00" not in HOSTILE[i % len(HOSTILE)])
    body = {name: value for i, name in enumerate(FIELD_NAMES) if "\x00" not in (value := BODY_VALUES[i % len(BODY_VALUES)])}
    for route in routes:
        generic_admin = route.parts[1:2] == ("console/raw/",)
        for value in ["1"] if generic_admin else ["1", "99999999999999999999999", "%ff%fe" + "x" * 300]:
            path = route.path([value] * route.holes)
            yield "GET", f"{path}?{query}", None
            if value == "1":
                yield "POST", path, body
        if not generic_admin:
            yield "GET", route.path(["%00"] * route.holes) + "?q=a%00b", None


SITES = [("school", role) for role in SCHOOL_ROLES] + [("console", role) for role in CONSOLE_ROLES]


@pytest.mark.django_db
@pytest.mark.parametrize(("site", "role"), SITES)
def test_every_url_survives_hostile_values(site, role, oakfield):
    client = role_client(site, role, oakfield)
    for method, path, body in sweep_requests(SCHOOL_ROUTES if site == "school" else CONSOLE_ROUTES):
        send(client, method, path, body)


hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40).map(lambda text: quote(text, safe="")),
    st.text(alphabet="%0123456789abcdefxyz/-.", max_size=30),
)


@pytest.mark.django_db
@pytest.mark.parametrize(("site", "role"), SITES)
def test_random_requests_never_fail(site, role, oakfield):
    client = role_client(site, role, oakfield)
    routes = SCHOOL_ROUTES if site == "school" else CONSOLE_ROUTES

    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, derandomize=False, database=None,
                         suppress_health_check=list(HealthCheck))
    @given(route=st.sampled_from(routes), data=st.data(), method=st.sampled_from(["GET", "POST"]))
    def probe(route, data, method):
        values = [data.draw(hostile_text) for _ in range(route.holes)]
        path = route.path(values)
        if method == "GET":
            query = data.draw(st.dictionaries(st.sampled_from(QUERY_KEYS), hostile_text, max_size=4))
            send(client, "GET", path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""))
        else:
            body = data.draw(st.dictionaries(st.sampled_from(FIELD_NAMES),
                                             st.text(max_size=50) | st.sampled_from(BODY_VALUES), max_size=8))
            send(client, "POST", path, body)

    probe()
