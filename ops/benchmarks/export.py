"""An access export for one pupil in a school of 1,500 pupils and 60,000 results.

The school is filled from the fake Xporter (40 results per pupil, 2 contacts each); the pupils
exported have a site account with visits in the vendor's visit log, among 200,000 visits of the
school's other accounts. Each export is built the way the school admin's button builds it (zip
written to the school's folder, one-time link). Baseline, same run: the whole school's export
(every table), which is what answering one person's request costs without the registry's links.
"""

from __future__ import annotations

import statistics
import time
from typing import TextIO

from django.db import connection
from django_tenants.utils import schema_context
from psycopg2 import sql

from ops.xporter_fake import FakeSchool, FakeXporter, serve_in_thread
from orchestration import pool
from orchestration.provisioning import school_provision
from orchestration.school_export import school_export
from shared import clock
from shared.audit.services import VISIT_TABLE, visit_partitions_ensure
from shared.changes import Actor
from shared.pg_tools import execute
from shared.privacy.requests.services import request_start
from tenants.pupils.models import Pupil
from tenants.rights import services
from tenants.users.models import User
from tenants.users.services import user_create
from tenants.xporter.models import XporterConnection
from tenants.xporter.services import xporter_sync

TARGET_SECONDS = 2.0


def add_arguments(parser) -> None:
    parser.add_argument("--pupils", type=int, default=1500)
    parser.add_argument("--exports", type=int, default=20, help="pupils exported (default 20)")
    parser.add_argument("--other-visits", type=int, default=200_000)


def run(args, *, out: TextIO) -> dict:
    out.write(__doc__.splitlines()[0] + "\n")
    pool.template_ensure()
    fake = FakeSchool(estab="3329001", pupils=args.pupils, contacts_per_pupil=2, results_per_pupil=40)
    base_url, server = serve_in_thread(FakeXporter([fake]))
    provisioned = school_provision(name="Export School", subdomain="export", admin_email="head@export.example")
    schema = provisioned.school.schema_name
    try:
        with schema_context(schema):
            XporterConnection.objects.create(base_url=base_url, estab=fake.estab, relying_party="bench", password=fake.password)
            out.write(f"  importing {args.pupils:,} pupils...\n")
            xporter_sync()
    finally:
        server.shutdown()
    this_month = clock.today().replace(day=1)
    visit_partitions_ensure(months_ahead=0, months=[this_month, clock.add_months(this_month, -1)])
    with schema_context(schema):
        head = User.objects.get(email="head@export.example")
        pupils = list(Pupil.objects.order_by("?")[:args.exports])
        for n, pupil in enumerate(pupils):
            pupil.user = user_create(email=f"pupil{n}@export.example", full_name=str(pupil), role=User.Role.PUPIL)
            pupil.save(update_fields=["user"])
        results = sum(p.results.count() for p in pupils) // len(pupils)
    with connection.cursor() as cursor:
        visits = sql.Identifier("public", VISIT_TABLE)
        execute(cursor, sql.SQL(
            "INSERT INTO {} (occurred_at, host, path, method, status, ip, user_id, schema_name) "
            "SELECT now() - make_interval(secs => g), 'export.localhost', '/pupils/', 'GET', 200, '10.1.2.3', "
            "100000 + g %% 500, %s FROM generate_series(1, %s) g").format(visits), [schema, args.other_visits])
        execute(cursor, sql.SQL(
            "INSERT INTO {} (occurred_at, host, path, method, status, ip, user_id, schema_name) "
            "SELECT now() - make_interval(secs => g), 'export.localhost', '/', 'GET', 200, '10.1.2.4', u, %s "
            "FROM generate_series(1, 50) g, unnest(%s::bigint[]) u").format(visits), [schema, [p.user_id for p in pupils]])
        execute(cursor, sql.SQL("ANALYZE {}").format(visits))

    timings, sizes = [], []
    with schema_context(schema):
        actor = Actor.school_user(head, schema)
        for pupil in pupils:
            request = services.school_request_receive(user=head, kind="access", requester_name="Parent", subject=pupil)
            request_start(actor=actor, request=request)
            started = time.perf_counter()
            link, _ = services.export_build(user=head, request=request)
            timings.append(time.perf_counter() - started)
            sizes.append(link.size)
    out.write("  baseline: the whole school's export...\n")
    started = time.perf_counter()
    whole = school_export(actor=Actor.system(), school=provisioned.school)
    whole_seconds = time.perf_counter() - started

    median = statistics.median(timings)
    out.write("\n| export | seconds | zip size |\n|---|---:|---:|\n")
    out.write(f"| one pupil ({results} results, 50 visits), median of {len(timings)} | **{median:.3f}** (max {max(timings):.3f}) "
              f"| {statistics.median(sizes) / 1024:.0f} KB |\n")
    out.write(f"| the whole school ({args.pupils:,} pupils), baseline | {whole_seconds:.2f} | {len(whole) / 1048576:.1f} MB |\n\n")
    out.write(f"One pupil's export is {whole_seconds / median:,.0f}x faster than the whole school's. "
              f"Target (under {TARGET_SECONDS:.0f} s): {'met' if median < TARGET_SECONDS else 'NOT met'}.\n")
    return {"pupils": args.pupils, "median_seconds": round(median, 4), "max_seconds": round(max(timings), 4),
            "whole_school_seconds": round(whole_seconds, 2), "target_met": median < TARGET_SECONDS}
