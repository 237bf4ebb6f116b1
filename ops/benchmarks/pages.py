"""School-site pages at 150, 1,500 and 15,000 pupils: median latency, and queries per page.

Each school is filled from the fake Xporter: 40 results per pupil (4 subjects at 10 dates: the
school's assessment points up to today, the current one a week ago, and a term apart before them),
a teacher given a third of the teaching groups. A school admin requests the pupil list, a pupil
page, the cohort measures, the transition matrix and their dashboard, the teacher their dashboard,
in-process (WSGI stack, middleware, database). The query count of each page must be the same at
every size: a page whose queries grow with the school is the N+1 the smallest school is the
baseline for. The head's dashboard and the cohort measures must each take under 100 ms (median)
at 1,500 pupils.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from typing import TextIO

from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from ops.benchmarks import school_sign_in
from ops.demo import result_dates_on_calendar
from ops.xporter_fake import FakeSchool, FakeXporter, serve_in_thread
from orchestration import pool
from orchestration.provisioning import school_provision
from shared import clock
from tenants.assessment import calendar
from tenants.pupils.models import Pupil
from tenants.users.models import User
from tenants.users.services import user_create
from tenants.xporter.models import XporterConnection
from tenants.xporter.services import xporter_sync

PASSWORD = "bench-password-1"
# name: (path, who requests it)
PAGES = {"pupil list": ("/pupils/", "head"), "pupil page": ("/pupils/{pupil}/", "head"),
         "cohort measures": ("/analysis/", "head"), "transition matrix": ("/analysis/transition/", "head"),
         "head's dashboard": ("/", "head"), "teacher's dashboard": ("/", "teacher")}
SIZES = (150, 1500, 15000)
UNDER_100_MS = ("head's dashboard", "cohort measures")  # at 1,500 pupils
RESULT_DATES = 10


def add_arguments(parser) -> None:
    parser.add_argument("--requests", type=int, default=30, help="requests per page and size (default 30)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="comma-separated school sizes, smallest first (default 150,1500,15000)")


def result_dates() -> tuple[dt.date, ...]:
    """The days results are recorded on, as the demo's: each assessment point up to today and the
    current point a week ago, with earlier terms 91 days apart before them, RESULT_DATES in all.
    Run inside the school's schema (its calendar is made here)."""
    dates = result_dates_on_calendar(clock.today())
    while len(dates) < RESULT_DATES:
        dates.insert(0, dates[0] - dt.timedelta(days=91))
    return tuple(dates[-RESULT_DATES:])


def _school(size: int, base_url: str, fake: FakeSchool, teacher: str) -> dict[str, Client | int]:
    provisioned = school_provision(name=f"Pages {size}", subdomain=f"pages{size}", admin_email=f"head@pages{size}.example")
    with schema_context(provisioned.school.schema_name):
        user_create(email=teacher, full_name="Bench Teacher", role=User.Role.TEACHER, password=PASSWORD)
        XporterConnection.objects.create(base_url=base_url, estab=fake.estab, relying_party="bench", password=fake.password)
        xporter_sync()
        head = User.objects.get(role=User.Role.SCHOOL_ADMIN)
        head.set_password(PASSWORD)
        head.save()
        pupil = Pupil.objects.order_by("pk").first().pk
    schema = provisioned.school.schema_name
    clients = {}
    for who, email in (("head", head.email), ("teacher", teacher)):
        clients[who] = Client(HTTP_HOST=provisioned.hostname)
        school_sign_in(clients[who], email=email, password=PASSWORD)
    return {**clients, "pupil": pupil, "schema": schema}


def _reads(schema: str, requests: int) -> dict[str, float]:
    """The cohort read alone, in the school's schema: the old page's Python aggregation
    (``selectors.cohort_analysis``, all pupils, every result) against the measures' one statement."""
    from tenants.assessment import measures, selectors
    from tenants.assessment.models import Subject
    from tenants.pupils.models import Group

    with schema_context(schema):
        all_windows = calendar.windows()
        current = calendar.point_current(clock.today(), all_windows)
        window = calendar.window_of(current, all_windows)
        previous = calendar.window_of(calendar.point_previous(current, all_windows), all_windows)
        subject = Subject.objects.first()
        cohort = Pupil.objects.filter(on_roll=True)
        reads = {"Python (before)": lambda: selectors.cohort_analysis(pupils=cohort, subject=subject),
                 "database (now)": lambda: measures.cohort_measures(
                     pupils=cohort, subject=subject, window=window, comparison=previous,
                     groups=Group.objects.filter(kind=Group.Kind.TEACHING))}
        timings = {}
        for name, read in reads.items():
            read()
            runs = []
            for _ in range(requests):
                started = time.perf_counter()
                read()
                runs.append((time.perf_counter() - started) * 1000)
            timings[name] = round(statistics.median(runs), 2)
    return timings


def run(args, *, out: TextIO) -> dict:
    out.write(__doc__.splitlines()[0] + "\n")
    pool.template_ensure()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    teachers = {size: f"teacher@pages{size}.example" for size in sizes}
    # The dates come from a calendar like the schools' own (made the same way, on the same day).
    provisioned = school_provision(name="Calendar", subdomain="pagescalendar", admin_email="head@pagescalendar.example")
    with schema_context(provisioned.school.schema_name):
        dates = result_dates()
    fakes = {size: FakeSchool(estab=f"33200{i}", pupils=size, contacts_per_pupil=2, result_dates=dates,
                              target_on=dates[-1] + dt.timedelta(days=220), teacher_emails=(teachers[size], "", ""))
             for i, size in enumerate(sizes)}
    base_url, server = serve_in_thread(FakeXporter(list(fakes.values())))
    try:
        schools = {}
        for size in sizes:
            out.write(f"  importing a school of {size:,} pupils...\n")
            started = time.perf_counter()
            schools[size] = _school(size, base_url, fakes[size], teachers[size])
            out.write(f"    ({time.perf_counter() - started:.0f} s)\n")
    finally:
        server.shutdown()
    figures: dict[str, dict] = {}
    for name, (template, who) in PAGES.items():
        figures[name] = {}
        for size in sizes:
            client = schools[size][who]
            path = template.format(pupil=schools[size]["pupil"])
            assert client.get(path).status_code == 200, (name, size)  # first visit: the calendar is ensured
            # With DEBUG on, the query log is already full from the imports, and a capture counts
            # only the growth of the log.
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                assert client.get(path).status_code == 200
            timings = []
            for _ in range(args.requests):
                started = time.perf_counter()
                client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
            figures[name][size] = {"median_ms": round(statistics.median(timings), 2), "queries": len(queries)}
        out.write(f"  measured {name}\n")

    reads = {size: _reads(schools[size]["schema"], args.requests) for size in sizes}
    out.write("\n")
    columns = [f"ms, {size:,}" for size in sizes] + [f"{b:,}/{a:,}" for a, b in zip(sizes, sizes[1:])] + \
        [f"queries, {size:,}" for size in sizes]
    header = f"{'page':<20} | " + " | ".join(f"{c:>14}" for c in columns) + " | equal"
    out.write(header + "\n" + "-" * len(header) + "\n")
    equal = True
    for name, by_size in figures.items():
        counts = [by_size[size]["queries"] for size in sizes]
        same = len(set(counts)) == 1
        equal &= same
        ratios = [by_size[b]["median_ms"] / by_size[a]["median_ms"] for a, b in zip(sizes, sizes[1:])]
        cells = [f"{by_size[size]['median_ms']:.2f}" for size in sizes] + [f"{r:.2f}x" for r in ratios] + \
            [str(c) for c in counts]
        out.write(f"{name:<20} | " + " | ".join(f"{c:>14}" for c in cells) + f" | {'yes' if same else 'NO'}\n")
    out.write("\nThe cohort read alone (median ms; the old page aggregated in Python):\n")
    for name in reads[sizes[0]]:
        out.write(f"  {name:<16} " + " | ".join(f"{size:,}: {reads[size][name]:.1f}" for size in sizes) + "\n")
    fast = {name: figures[name][1500]["median_ms"] < 100 for name in UNDER_100_MS if 1500 in figures[name]}
    out.write(f"Target: equal query counts at every size: {'met' if equal else 'NOT met'}.\n")
    for name, met in fast.items():
        out.write(f"Target: {name} under 100 ms median at 1,500 pupils: {'met' if met else 'NOT met'} "
                  f"({figures[name][1500]['median_ms']:.1f} ms).\n")
    return {"pages": {name: {str(k): v for k, v in by.items()} for name, by in figures.items()},
            "cohort_read_ms": {str(size): reads[size] for size in sizes},
            "queries_equal": equal, "under_100_ms_at_1500": fast, "target_met": equal and all(fast.values())}
