"""The school sites under load: gunicorn serving 200 schools, staff browsing, parents signing in.

Schools are provisioned from the spare pool and given a small school each (30 pupils with results
in three subjects and targets, a teaching group, a school admin and one parent account). Every
name the school holds carries the school's marker, ``Lm-<schema>``, so that a page can be checked
against its host: a response on school A's host that contains school B's marker is a cross-school
leak, and the run must have none. Staff sessions are made directly in each school's session table
(a staff member who is already signed in); parents sign in through the login form during the run,
paying the production password hasher on the server.

The product's web server, ``gunicorn --config ops/gunicorn.conf.py config.wsgi``, runs in another
process against the same database; a closed loop of virtual users (asyncio and httpx, no think
time) sends every request to 127.0.0.1 with the school's ``Host`` header until the time is up.
Meanwhile a sampler reads ``pg_stat_activity`` for the web server's connections (its own
``application_name``), each backend's anonymous memory from ``/proc`` where the server is local,
and gunicorn's worker processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Iterator, TextIO
from urllib.parse import urlsplit

import httpx
import psycopg2
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context
from psycopg2 import sql

from ops.benchmarks import terms_accept_as
from orchestration import pool
from orchestration.provisioning import school_provision
from shared import clock
from shared.compliance.models import TermsAcceptance
from shared.pg_tools import database_url, execute
from shared.progress import Progress
from shared.schools.models import School
from tenants.assessment.models import Aspect, Grade, GradeSet, Result, Subject, Target
from tenants.pupils.models import Group, ParentCarer, Pupil, PupilParent
from tenants.users.models import User

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "fleet-password-1"
APPLICATION_NAME = "pupiltrack-load-web"
MARKER = re.compile(rb"Lm-([a-z0-9_]+)")
_CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
_CHILD_LINK = re.compile(rb'href="/pupils/(\d+)/"')


def add_arguments(parser) -> None:
    parser.add_argument("--load-schools", type=int, default=200, help="schools under load (default 200)")
    parser.add_argument("--load-seconds", type=float, default=60.0, help="length of the load test (default 60)")
    parser.add_argument("--load-users", type=int, default=16, help="concurrent virtual users (default 16)")
    parser.add_argument("--parent-share", type=float, default=0.1,
                        help="share of visits that are a parent signing in (default 0.1; the rest staff browsing)")
    parser.add_argument("--pupils", type=int, default=30, help="pupils per school (default 30)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--web-threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--web-max-requests", type=int, default=1000,
                        help="requests before gunicorn replaces a worker (default 1000, jitter a tenth)")
    parser.add_argument("--conn-max-schools", type=int, default=None,
                        help="DB_CONN_MAX_SCHOOLS for the server (default: the setting's value)")
    parser.add_argument("--compare-with", type=Path, default=None, metavar="CHECKOUT",
                        help="a checkout of other code (say, the main branch's) to serve the same schools with "
                             "first, as the baseline: its load table and request costs are printed beside these")
    parser.add_argument("--cost-requests", type=int, default=20,
                        help="requests per page for the in-process request cost (default 20; 0 leaves it out)")


# --- The schools -------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoadSchool:
    schema: str
    host: str
    subdomain: str
    staff_session: str
    parent_email: str
    pupil_ids: tuple[int, ...]
    group_id: int = 0


_SEEDED: dict[str, LoadSchool] = {}


def password_hash() -> str:
    """One production-hasher hash of PASSWORD for every account: hashing once per account would
    cost the set-up a fifth of a second each, and the server checks it the same way."""
    hasher = PBKDF2PasswordHasher()
    return hasher.encode(PASSWORD, hasher.salt())


def schools_ensure(count: int, *, pupils: int = 30, out: TextIO | None = None, prefix: str = "load") -> list[LoadSchool]:
    """The first ``count`` load schools (``<prefix>1``...), provisioned and filled once per process."""
    pool.template_ensure()
    encoded = None
    bar = Progress(out, count, label="  schools provisioned and filled ") if out is not None else None
    schools = []
    for n in range(1, count + 1):
        subdomain = f"{prefix}{n}"
        if subdomain not in _SEEDED:
            encoded = encoded or password_hash()
            _SEEDED[subdomain] = school_seed(subdomain=subdomain, pupils=pupils, password_hash=encoded)
        schools.append(_SEEDED[subdomain])
        if n % 50 == 0:
            # This connection enters every school it provisions: left open, its catalog cache (and
            # the cost of each later CREATE TABLE's cache invalidations) grows with the fleet.
            connection.close()
        if bar is not None:
            bar.update(n)
    if bar is not None:
        bar.finish()
    return schools


def school_seed(*, subdomain: str, pupils: int, password_hash: str) -> LoadSchool:
    """Provision one school and fill it; every name carries the school's marker."""
    provisioned = school_provision(name=f"Load School {subdomain}", subdomain=subdomain,
                                   admin_email=f"head@{subdomain}.example")
    schema = provisioned.school.schema_name
    marker = f"Lm-{schema}"
    today = clock.today()
    with transaction.atomic(), schema_context(schema):
        head = User.objects.get(email=provisioned.admin_email)
        head.full_name = f"Head {marker}"
        head.password = password_hash
        head.save()
        parent_user = User.objects.create(email=f"parent@{subdomain}.example", full_name=f"Parent {marker}",
                                          role=User.Role.PARENT, password=password_hash)
        grade_set = GradeSet.objects.create(name="Steps")
        grades = Grade.objects.bulk_create([Grade(grade_set=grade_set, label=f"S{i}", order=i, points=Decimal(i))
                                            for i in range(1, 7)])
        subjects = Subject.objects.bulk_create([Subject(name=name) for name in ("Maths", "Reading", "Writing")])
        aspects = Aspect.objects.bulk_create([Aspect(subject=subject, name="Teacher assessment", grade_set=grade_set,
                                                     is_headline=True) for subject in subjects])
        rows = Pupil.objects.bulk_create([
            Pupil(forename=f"Pupil{i}", surname=marker, year_group=f"Year {i % 6 + 1}", gender="FM"[i % 2],
                  date_of_birth=dt.date(2015 + i % 6, 1 + i % 12, 1 + i % 28), fsm=i % 4 == 0, eal=i % 5 == 0)
            for i in range(1, pupils + 1)])
        group = Group.objects.create(kind=Group.Kind.TEACHING, name="Class 1")
        group.pupils.set(rows)
        group.staff.add(head)
        parent = ParentCarer.objects.create(forename="Parent", surname=marker, user=parent_user)
        PupilParent.objects.create(pupil=rows[0], parent=parent, relationship="Mother")
        Result.objects.bulk_create([
            Result(pupil=pupil, aspect=aspect, grade=grades[min(term + i % 2, 5)],
                   recorded_on=today - dt.timedelta(days=90 * (4 - term)))
            for i, pupil in enumerate(rows) for aspect in aspects for term in range(4)])
        Target.objects.bulk_create([Target(pupil=pupil, subject=subject, grade=grades[5], due_on=today + dt.timedelta(days=180))
                                    for pupil in rows for subject in subjects])
        session = SessionStore()
        session[SESSION_KEY] = str(head.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = head.get_session_auth_hash()
        # A school admin's session has passed the second factor (their authenticator app).
        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.create(user=head, confirmed=True).persistent_id
        session.create()
        terms_accept_as(user=head, school=provisioned.school)
    return LoadSchool(schema=schema, host=provisioned.hostname, subdomain=subdomain, staff_session=session.session_key,
                      parent_email=parent_user.email, pupil_ids=tuple(p.pk for p in rows), group_id=group.pk)


def schools_drop(schools: list[LoadSchool]) -> None:
    """Remove load schools whole (tests that commit them clean up after themselves)."""
    connection.set_schema_to_public()
    with transaction.atomic():
        TermsAcceptance.objects.filter(school__schema_name__in=[s.schema for s in schools]).delete()
        School.objects.filter(schema_name__in=[s.schema for s in schools]).delete()
        with connection.cursor() as cursor:
            for school in schools:
                execute(cursor, sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(school.schema)))
    for school in schools:
        _SEEDED.pop(school.subdomain, None)


# --- The web server ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class WebServer:
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> set[int]:
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return set()
        return {int(pid) for pid in children.split()}

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


    def cpu_seconds(self) -> float:
        """User and system CPU time of the server so far: the master, its live workers, and the
        workers it has reaped (a replaced worker's time is added to the master's children's)."""
        total = _cpu_seconds(self.process.pid, children=True)
        for pid in self.worker_pids():
            total += _cpu_seconds(pid, children=False)
        return total


def _cpu_seconds(pid: int, *, children: bool) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # After the command: state is field 3; utime, stime, cutime, cstime are fields 14 to 17.
    ticks = sum(int(value) for value in fields[11:15 if children else 13])
    return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def web_server(*, workers: int = 2, threads: int = 4, max_requests: int = 1000, conn_max_schools: int | None = None,
               extra_env: dict[str, str] | None = None, checkout: Path | None = None) -> Iterator[WebServer]:
    """The product's gunicorn, on a free local port, against this process's database: this
    checkout's code, or ``checkout``'s (a baseline to compare with)."""
    root = Path(checkout).resolve() if checkout is not None else REPO_ROOT
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "DATABASE_URL": database_url(connection.settings_dict, application_name=APPLICATION_NAME),
        "REDIS_URL": settings.REDIS_URL,
        "DRAMATIQ_NAMESPACE": settings.DRAMATIQ_NAMESPACE,
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": str(workers),
        "WEB_THREADS": str(threads),
        "WEB_MAX_REQUESTS": str(max_requests),
        "WEB_MAX_REQUESTS_JITTER": str(max_requests // 10),
        # This checkout's code, whichever checkout the virtualenv was installed from.
        "PYTHONPATH": os.pathsep.join([str(root / "platform"), str(root)]),
        **({"DB_CONN_MAX_SCHOOLS": str(conn_max_schools)} if conn_max_schools is not None else {}),
        **(extra_env or {}),
    }
    log_file = tempfile.NamedTemporaryFile(prefix="pupiltrack-gunicorn-", suffix=".log", delete=False)
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", str(root / "ops" / "gunicorn.conf.py"),
                                "config.wsgi"], cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    server = WebServer(process=process, port=port, log_path=Path(log_file.name))
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.log_tail()}")
            try:
                if httpx.get(f"{server.base_url}/privacy/", headers={"Host": settings.BASE_DOMAIN}, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within 90 s:\n{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log_file.close()
        with contextlib.suppress(OSError):
            os.unlink(log_file.name)


# --- Watching the database and the server ------------------------------------------------------

def _rss_anon_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class Sampler(threading.Thread):
    """Every ``interval`` seconds: the web server's open and active connections, each of its
    backends' anonymous memory (when the server is on this machine), all connections to the
    database, and the web server's worker processes."""

    def __init__(self, server: WebServer | None, *, interval: float = 0.25, application_name: str = APPLICATION_NAME):
        super().__init__(daemon=True)
        self.server = server
        self.interval = interval
        self.application_name = application_name
        self.params = connection.get_connection_params()
        self.stop_event = threading.Event()
        self.open_counts: list[int] = []
        self.active_counts: list[int] = []
        self.database_counts: list[int] = []
        self.backends: set[tuple[int, dt.datetime]] = set()
        self.rss_kb_max: int | None = None
        self.worker_pids: set[int] = set()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            conn = psycopg2.connect(**self.params)
            # Autocommit and no `with conn` (which opens a transaction even so): pg_stat_activity
            # is a snapshot taken once per transaction.
            conn.autocommit = True
            try:
                with conn.cursor() as cursor:
                    while not self.stop_event.is_set():
                        self._sample(cursor)
                        self.stop_event.wait(self.interval)
            finally:
                conn.close()
        except BaseException as error:  # reported by stop()
            self.error = error

    def _sample(self, cursor) -> None:
        cursor.execute("SELECT pid, backend_start, state, application_name = %s FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()", [self.application_name])
        rows = cursor.fetchall()
        ours = [row for row in rows if row[3]]
        self.database_counts.append(len(rows))
        self.open_counts.append(len(ours))
        self.active_counts.append(sum(1 for row in ours if row[2] == "active"))
        for pid, started, _, _ in ours:
            self.backends.add((pid, started))
            rss = _rss_anon_kb(pid)
            if rss is not None:
                self.rss_kb_max = max(self.rss_kb_max or 0, rss)
        if self.server is not None:
            self.worker_pids |= self.server.worker_pids()

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=10)
        if self.error is not None:
            raise self.error


# --- The virtual users -------------------------------------------------------------------------

# What a signed-in member of staff opens, per role: (share, kind, path). A staff visit is
# STAFF_VISIT_PAGES requests, each drawn by share; a path may name {pupil} (one of the school's
# pupils, drawn at random) and {group} (its teaching group). A new page joins the load by a line here.
STAFF_MIX: dict[str, list[tuple[float, str, str]]] = {
    "school admin": [
        (0.20, "staff: pupil list", "/pupils/"),
        (0.40, "staff: pupil page", "/pupils/{pupil}/"),
        (0.15, "staff: dashboard", "/"),
        (0.10, "staff: marksheet", "/groups/{group}/marksheet/"),
        (0.10, "staff: cohort measures", "/analysis/"),
        (0.05, "staff: transition matrix", "/analysis/transition/"),
    ],
}
STAFF_VISIT_PAGES = 4
PARENT_KINDS = ("parent: sign-in page", "parent: sign in", "parent: children", "parent: child's page")
KINDS = tuple(dict.fromkeys([kind for mix in STAFF_MIX.values() for _, kind, _ in mix] + list(PARENT_KINDS)))


def mix_path(school: LoadSchool, template: str, rng: random.Random) -> str:
    return template.format(pupil=rng.choice(school.pupil_ids), group=school.group_id)


@dataclass
class LoadStats:
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_examples: list[str] = field(default_factory=list)
    leaks: list[tuple[str, str, list[str]]] = field(default_factory=list)
    responses: int = 0
    with_own_marker: int = 0
    seconds: float = 0.0

    def error(self, kind: str, note: str) -> None:
        self.errors[kind] += 1
        if len(self.error_examples) < 10:
            self.error_examples.append(f"{kind}: {note}")

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies_ms.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def check_response(school: LoadSchool, path: str, response: httpx.Response, stats: LoadStats) -> None:
    """No marker of another school in the body, and no redirect to another host."""
    stats.responses += 1
    found = {m.decode() for m in MARKER.findall(response.content)}
    if school.schema in found:
        stats.with_own_marker += 1
    foreign = sorted(found - {school.schema})
    location = response.headers.get("location")
    if location and urlsplit(location).hostname not in (None, school.host):
        foreign.append(f"redirect to {urlsplit(location).hostname}")
    if foreign:
        stats.leaks.append((school.host, path, foreign))


async def _request(client: httpx.AsyncClient, school: LoadSchool, stats: LoadStats, kind: str, method: str, path: str,
                   *, cookies: dict[str, str], expect: int, data: dict | None = None) -> httpx.Response | None:
    headers = {"Host": school.host}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    started = time.perf_counter()
    try:
        response = await client.request(method, path, headers=headers, data=data)
    except httpx.HTTPError as error:
        stats.latencies_ms[kind].append((time.perf_counter() - started) * 1000)
        stats.error(kind, f"{school.host}{path}: {error!r}")
        return None
    stats.latencies_ms[kind].append((time.perf_counter() - started) * 1000)
    client.cookies.clear()  # one client visits every school: cookies are handed over explicitly
    check_response(school, path, response, stats)
    if response.status_code != expect:
        stats.error(kind, f"{school.host}{path}: HTTP {response.status_code}")
        return None
    return response


async def staff_visit(client, school: LoadSchool, stats: LoadStats, rng: random.Random) -> None:
    """A signed-in school admin opens STAFF_VISIT_PAGES pages of the mix."""
    cookies = {"sessionid": school.staff_session}
    mix = STAFF_MIX["school admin"]
    for _, kind, template in rng.choices(mix, weights=[share for share, _, _ in mix], k=STAFF_VISIT_PAGES):
        await _request(client, school, stats, kind, "GET", mix_path(school, template, rng), cookies=cookies,
                       expect=200)


async def parent_visit(client, school: LoadSchool, stats: LoadStats, rng: random.Random) -> None:
    """A parent opens the sign-in page, signs in, sees their children and opens their child's page."""
    page = await _request(client, school, stats, "parent: sign-in page", "GET", "/accounts/login/", cookies={},
                          expect=200)
    if page is None:
        return
    csrf_cookie, field_match = page.cookies.get("csrftoken"), _CSRF_FIELD.search(page.content)
    if not csrf_cookie or not field_match:
        stats.error("parent: sign-in page", f"{school.host}: no CSRF token")
        return
    signed_in = await _request(client, school, stats, "parent: sign in", "POST", "/accounts/login/",
                               cookies={"csrftoken": csrf_cookie}, expect=302,
                               data={"username": school.parent_email, "password": PASSWORD,
                                     "csrfmiddlewaretoken": field_match.group(1).decode()})
    if signed_in is None or "sessionid" not in signed_in.cookies:
        if signed_in is not None:
            stats.error("parent: sign in", f"{school.host}: no session")
        return
    cookies = {"sessionid": signed_in.cookies["sessionid"]}
    children = await _request(client, school, stats, "parent: children", "GET", "/", cookies=cookies, expect=200)
    if children is None:
        return
    link = _CHILD_LINK.search(children.content)
    if link is None:
        stats.error("parent: children", f"{school.host}: no child's link")
        return
    await _request(client, school, stats, "parent: child's page", "GET", f"/pupils/{int(link.group(1))}/",
                   cookies=cookies, expect=200)


async def _virtual_user(number: int, base_url: str, schools: list[LoadSchool], stats: LoadStats, deadline: float,
                        parent_share: float, seed: int) -> None:
    rng = random.Random(seed * 1000 + number)
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0, follow_redirects=False,
                                 limits=httpx.Limits(max_connections=1)) as client:
        while time.monotonic() < deadline:
            school = rng.choice(schools)
            if rng.random() < parent_share:
                await parent_visit(client, school, stats, rng)
            else:
                await staff_visit(client, school, stats, rng)


def load_run(base_url: str, schools: list[LoadSchool], *, seconds: float, users: int, parent_share: float,
             seed: int = 1) -> LoadStats:
    """Closed-loop virtual users against ``base_url`` for ``seconds`` (each finishes its visit)."""
    stats = LoadStats()

    async def main() -> None:
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(_virtual_user(n, base_url, schools, stats, deadline, parent_share, seed)
                               for n in range(users)))

    started = time.perf_counter()
    asyncio.run(main())
    stats.seconds = time.perf_counter() - started
    return stats


# --- The report --------------------------------------------------------------------------------

def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    if len(values) == 1:
        return {"p50": values[0], "p95": values[0], "p99": values[0], "max": values[0]}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": max(values)}


def load_table(stats: LoadStats, *, out: TextIO) -> dict:
    header = f"{'request':<22} | {'requests':>8} | {'req/s':>7} | {'p50 ms':>7} | {'p95 ms':>7} | {'p99 ms':>7} | {'errors':>6}"
    out.write(header + "\n" + "-" * len(header) + "\n")
    rows = {}
    every: list[float] = []
    for kind in KINDS:
        values = stats.latencies_ms.get(kind, [])
        every += values
        rows[kind] = {"requests": len(values), **{k: round(v, 1) for k, v in percentiles(values).items()},
                      "errors": stats.errors.get(kind, 0)}
    rows["all"] = {"requests": len(every), **{k: round(v, 1) for k, v in percentiles(every).items()},
                   "errors": stats.error_count}
    for kind, row in rows.items():
        rate = row["requests"] / stats.seconds if stats.seconds else 0.0
        row["per_second"] = round(rate, 1)
        out.write(f"{kind:<22} | {row['requests']:>8} | {rate:>7.1f} | {row['p50']:>7.1f} | {row['p95']:>7.1f} | "
                  f"{row['p99']:>7.1f} | {row['errors']:>6}\n")
    return rows


def request_costs(school: LoadSchool, *, requests: int, checkout: Path | None = None) -> dict:
    """Queries and CPU ms of each page of the staff mix, one school, in a process of its own running
    this checkout's code or ``checkout``'s (ops/benchmarks/request_cost.py)."""
    root = Path(checkout).resolve() if checkout is not None else REPO_ROOT
    pages, seen = [], set()
    rng = random.Random(7)
    for mix in STAFF_MIX.values():
        for _, kind, template in mix:
            if kind not in seen:
                seen.add(kind)
                pages.append([kind, mix_path(school, template, rng)])
    spec = {"host": school.host, "session": school.staff_session, "requests": requests, "pages": pages}
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.development",
           "DATABASE_URL": database_url(connection.settings_dict, application_name="pupiltrack-load-cost"),
           "REDIS_URL": settings.REDIS_URL, "DRAMATIQ_NAMESPACE": settings.DRAMATIQ_NAMESPACE,
           "PYTHONPATH": os.pathsep.join([str(root / "platform"), str(root)])}
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("request_cost.py")), json.dumps(spec)],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"request_cost.py failed ({root}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def load_once(args, schools: list[LoadSchool], conn_max_schools: int, *, checkout: Path | None, out: TextIO) -> dict:
    """One load run against one checkout's server; its table, and its figures."""
    with web_server(workers=args.web_workers, threads=args.web_threads, max_requests=args.web_max_requests,
                    conn_max_schools=conn_max_schools, checkout=checkout) as server:
        sampler = Sampler(server)
        sampler.start()
        out.write(f"  {args.load_users} virtual users for {args.load_seconds:.0f} s over {len(schools)} schools...\n")
        out.flush()
        cpu_before = server.cpu_seconds()
        try:
            stats = load_run(server.base_url, schools, seconds=args.load_seconds, users=args.load_users,
                             parent_share=args.parent_share)
        finally:
            cpu_after = server.cpu_seconds()
            sampler.stop()
    out.write("\n")
    rows = load_table(stats, out=out)
    slots = args.web_workers * args.web_threads
    figures = {
        "schools": len(schools), "seconds": round(stats.seconds, 1), "users": args.load_users, "requests": rows,
        "errors": stats.error_count, "leaks": len(stats.leaks), "responses_checked": stats.responses,
        "responses_with_own_marker": stats.with_own_marker,
        "db_connections_max": max(sampler.open_counts, default=0),
        "db_connections_active_max": max(sampler.active_counts, default=0),
        "db_connections_all_max": max(sampler.database_counts, default=0),
        "db_backends_seen": len(sampler.backends), "web_slots": slots,
        "backend_rss_anon_mb_max": round(sampler.rss_kb_max / 1024, 1) if sampler.rss_kb_max else None,
        "web_worker_processes_seen": len(sampler.worker_pids), "conn_max_schools": conn_max_schools,
        "server_cpu_ms_per_request": round((cpu_after - cpu_before) * 1000 / stats.requests, 1) if stats.requests else None,
    }
    out.write(f"Throughput {rows['all']['per_second']:.1f} requests/s over {stats.seconds:.1f} s; errors: "
              f"{stats.error_count}. The web server's CPU: {figures['server_cpu_ms_per_request']} ms a request "
              f"(every kind, sign-ins' password hashing included).\n")
    out.write(f"Cross-school leaks: {len(stats.leaks)} in {stats.responses:,} responses checked against their host "
              f"({stats.with_own_marker:,} carried their own school's marker).\n")
    out.write(f"Database connections of the web server: at most {figures['db_connections_max']} open "
              f"({figures['db_connections_active_max']} active) for {slots} worker threads; "
              f"{figures['db_backends_seen']} backends seen in the run (connections are reopened after "
              f"{conn_max_schools} schools); all connections to the database: at most {figures['db_connections_all_max']}.\n")
    if figures["backend_rss_anon_mb_max"] is not None:
        out.write(f"Largest web backend (anonymous memory): {figures['backend_rss_anon_mb_max']} MB. ")
    out.write(f"gunicorn worker processes seen: {figures['web_worker_processes_seen']} "
              f"({args.web_workers} at a time, replaced after about {args.web_max_requests} requests).\n")
    for host, path, foreign in stats.leaks[:10]:
        out.write(f"  LEAK on {host}{path}: {', '.join(foreign)}\n")
    for example in stats.error_examples:
        out.write(f"  error: {example}\n")
    return figures


def cost_table(costs: dict[str, dict], *, out: TextIO) -> None:
    """Per page: queries (``SET search_path`` among them), CPU ms and wall ms, for each code compared."""
    labels = list(costs)
    out.write("\n| page, in-process, one warm school | " + " | ".join(
        f"{label}: queries (SET search_path) | {label}: CPU ms | {label}: wall ms" for label in labels) + " |\n")
    out.write("|---|" + "---:|---:|---:|" * len(labels) + "\n")
    kinds = list(dict.fromkeys(kind for figures in costs.values() for kind in figures))
    for kind in kinds:
        cells = []
        for label in labels:
            row = costs[label].get(kind)
            if row is None or "queries" not in row:
                cells += [f"HTTP {row['status']}" if row else "-", "-", "-"]
            else:
                cells += [f"{row['queries']} ({row['search_path_sets']})", f"{row['cpu_ms']:.1f}", f"{row['wall_ms']:.1f}"]
        out.write(f"| {kind} | " + " | ".join(cells) + " |\n")


def load_section(args, *, out: TextIO) -> dict:
    """Provision ``--load-schools`` schools, serve them with gunicorn, load them, print the table;
    with ``--compare-with``, the other checkout's server first, on the same schools."""
    out.write(__doc__.splitlines()[0] + "\n")
    schools = schools_ensure(args.load_schools, pupils=args.pupils, out=out)
    conn_max_schools = args.conn_max_schools if args.conn_max_schools is not None else settings.DB_CONN_MAX_SCHOOLS
    out.write(f"  gunicorn: {args.web_workers} workers x {args.web_threads} threads, max_requests "
              f"{args.web_max_requests}; DB_CONN_MAX_SCHOOLS {conn_max_schools}, DB_CONN_MAX_AGE "
              f"{connection.settings_dict['CONN_MAX_AGE']} s\n")
    runs = [("baseline", args.compare_with)] if getattr(args, "compare_with", None) else []
    runs.append(("this code", None))
    figures: dict = {}
    costs: dict[str, dict] = {}
    for label, checkout in runs:
        if len(runs) > 1:
            out.write(f"\n{label}: {checkout or REPO_ROOT}\n")
        figures[label] = load_once(args, schools, conn_max_schools, checkout=checkout, out=out)
        if getattr(args, "cost_requests", 0):
            costs[label] = request_costs(schools[0], requests=args.cost_requests, checkout=checkout)
            figures[label]["request_cost"] = costs[label]
    if costs:
        cost_table(costs, out=out)
    return figures if len(runs) > 1 else figures["this code"]


def run(args, *, out: TextIO) -> dict:
    """``ops/bench fleet-load``: the load section alone (no fleet provisioned first)."""
    pool.template_ensure()
    return load_section(args, out=out)
