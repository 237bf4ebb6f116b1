"""School-site pages at 150 and 1,500 pupils: median latency, and queries per page.

Two schools are filled from the fake Xporter (40 results per pupil); a school admin requests the
pupil list, a pupil page and the cohort analysis in-process (WSGI stack, middleware, database).
The query count of each page must be the same at both sizes: a page whose queries grow with the
school is the N+1 the smaller school is the baseline for.
"""

from __future__ import annotations

import statistics
import time
from typing import TextIO

from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from ops.benchmarks import school_sign_in
from ops.xporter_fake import FakeSchool, FakeXporter, serve_in_thread
from orchestration import pool
from orchestration.provisioning import school_provision
from tenants.pupils.models import Pupil
from tenants.users.models import User
from tenants.xporter.models import XporterConnection
from tenants.xporter.services import xporter_sync

PASSWORD = "bench-password-1"
PAGES = {"pupil list": "/pupils/", "pupil page": "/pupils/{pupil}/", "cohort analysis": "/analysis/"}


def add_arguments(parser) -> None:
    parser.add_argument("--requests", type=int, default=30, help="requests per page and size (default 30)")


def _school(size: int, base_url: str, fake: FakeSchool) -> tuple[Client, int]:
    provisioned = school_provision(name=f"Pages {size}", subdomain=f"pages{size}", admin_email=f"head@pages{size}.example")
    with schema_context(provisioned.school.schema_name):
        XporterConnection.objects.create(base_url=base_url, estab=fake.estab, relying_party="bench", password=fake.password)
        xporter_sync()
        head = User.objects.get()
        head.set_password(PASSWORD)
        head.save()
        pupil = Pupil.objects.order_by("pk").first().pk
    client = Client(HTTP_HOST=provisioned.hostname)
    school_sign_in(client, email=head.email, password=PASSWORD)
    return client, pupil


def run(args, *, out: TextIO) -> dict:
    out.write(__doc__.splitlines()[0] + "\n")
    pool.template_ensure()
    sizes = (150, 1500)
    fakes = {size: FakeSchool(estab=f"33200{i}", pupils=size, contacts_per_pupil=2, results_per_pupil=40)
             for i, size in enumerate(sizes)}
    base_url, server = serve_in_thread(FakeXporter(list(fakes.values())))
    try:
        clients = {}
        for size in sizes:
            out.write(f"  importing a school of {size:,} pupils...\n")
            clients[size] = _school(size, base_url, fakes[size])
    finally:
        server.shutdown()
    figures: dict[str, dict] = {}
    for name, template in PAGES.items():
        figures[name] = {}
        for size in sizes:
            client, pupil = clients[size]
            path = template.format(pupil=pupil)
            # With DEBUG on, the query log is already full (9,000 entries) from the imports, and a
            # capture counts only the growth of the log.
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

    out.write("\n")
    header = (f"{'page':<16} | {'median ms, 150':>14} | {'median ms, 1,500':>16} | {'queries, 150':>12} | "
              f"{'queries, 1,500':>14} | equal")
    out.write(header + "\n" + "-" * len(header) + "\n")
    equal = True
    for name, by_size in figures.items():
        same = by_size[150]["queries"] == by_size[1500]["queries"]
        equal &= same
        out.write(f"{name:<16} | {by_size[150]['median_ms']:>14.2f} | {by_size[1500]['median_ms']:>16.2f} | "
                  f"{by_size[150]['queries']:>12} | {by_size[1500]['queries']:>14} | {'yes' if same else 'NO'}\n")
    out.write(f"Target: equal query counts at both sizes: {'met' if equal else 'NOT met'}.\n")
    return {"pages": {name: {str(k): v for k, v in by.items()} for name, by in figures.items()}, "target_met": equal}
