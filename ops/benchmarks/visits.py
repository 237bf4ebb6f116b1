"""The visit log: what it adds to a school page, and how fast a million visits load.

Page cost: a signed-in teacher's dashboard on a school site, requested in-process (the WSGI stack,
middleware and database, no network) with the visit log off, on (one Redis RPUSH per request, the
product's way), and, as a baseline, with a synchronous INSERT per request instead. Requests
alternate between the variants so that machine noise hits all of them alike; the table gives each
variant's median and its ratio to "off".

Loading: one million visits spread over 13 months are queued in Redis and moved into the
partitioned table by ``visits_flush`` (batches of 5,000, COPY), against row-by-row INSERTs of a
sample, scaled to a million.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from typing import TextIO

from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from psycopg2 import sql

from ops.benchmarks import school_sign_in
from ops.demo import DEMO_PASSWORD, demo_seed
from shared import clock
from shared.audit import services
from shared.clients import last_use
from shared.pg_tools import execute
from shared.progress import Progress
from shared.redis_client import redis_client

TARGET_RATIO = 1.10
_VISIT_INSERT = sql.SQL("INSERT INTO {} (occurred_at, host, path, method, status, ip, user_id, schema_name) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)").format(sql.Identifier("public", services.VISIT_TABLE))


def add_arguments(parser) -> None:
    parser.add_argument("--requests", type=int, default=400, help="page requests per variant (default 400)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="visits to load (default 1,000,000)")
    parser.add_argument("--baseline-rows", type=int, default=20_000,
                        help="visits inserted row by row for the baseline (default 20,000)")


class _SynchronousVisitInsert:
    """The baseline: write each visit straight to PostgreSQL inside the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        with connection.cursor() as cursor:
            execute(cursor, _VISIT_INSERT,
                [clock.now(), request.get_host(), request.path, request.method, response.status_code,
                 request.META.get("REMOTE_ADDR"), request.user.pk, connection.schema_name],
            )
        return response


def _signed_in_client(hostname: str, email: str, *, visit_log: bool, baseline: bool = False) -> Client:
    middleware = list(settings.MIDDLEWARE)
    if baseline:
        middleware[middleware.index("config.middleware.VisitLogMiddleware")] = f"{__name__}._SynchronousVisitInsert"
    settings.VISIT_LOG_ENABLED = visit_log
    settings.MIDDLEWARE = middleware
    client = Client(HTTP_HOST=hostname, REMOTE_ADDR="192.0.2.10")
    school_sign_in(client, email=email, password=DEMO_PASSWORD)
    client.get("/")  # builds this client's middleware chain with the settings above
    return client


def page_cost(requests: int, out: TextIO) -> dict:
    school = demo_seed()[0]
    services.visit_partitions_ensure(months_ahead=1)
    original = (settings.VISIT_LOG_ENABLED, settings.MIDDLEWARE)
    try:
        variants = {
            "off": _signed_in_client(school.hostname, school.demo.teacher_email, visit_log=False),
            "on (Redis buffer)": _signed_in_client(school.hostname, school.demo.teacher_email, visit_log=True),
            "baseline: INSERT per request": _signed_in_client(school.hostname, school.demo.teacher_email,
                                                              visit_log=False, baseline=True),
        }
    finally:
        settings.VISIT_LOG_ENABLED, settings.MIDDLEWARE = original
    timings: dict[str, list[float]] = {name: [] for name in variants}
    bar = Progress(out, requests, label="  page requests per variant ")
    for round_number in range(requests):
        for name, client in variants.items():
            started = time.perf_counter()
            response = client.get("/")
            timings[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        bar.update(round_number + 1)
    bar.finish()
    redis_client().delete(services.visit_buffer_key())
    off = statistics.median(timings["off"])
    return {name: {"median_ms": round(statistics.median(values), 3),
                   "ratio": round(statistics.median(values) / off, 3)} for name, values in timings.items()}


def _visit_rows(count: int, start: dt.datetime):
    span = 395 * 24 * 3600
    for n in range(count):
        occurred = start + dt.timedelta(seconds=(n * 7919) % span)
        yield [occurred.isoformat(), "oakfield.localhost", f"/pupils/{n % 5000}/", "GET", 200,
               f"10.{n % 250}.{n % 200}.{n % 100}", n % 900, "school_000001"]


def load(rows: int, baseline_rows: int, out: TextIO) -> dict:
    client = redis_client()
    buffer = services.visit_buffer_key()
    client.delete(buffer)
    start = dt.datetime.combine(clock.add_months(clock.today().replace(day=1), -12), dt.time(), dt.timezone.utc)
    pipe = client.pipeline(transaction=False)
    bar = Progress(out, rows, label="  queueing visits ", amount="{:,}".format)
    for n, row in enumerate(_visit_rows(rows, start), start=1):
        pipe.rpush(buffer, json.dumps(row, separators=(",", ":")))
        if n % 20_000 == 0:
            pipe.execute()
            bar.update(n)
    pipe.execute()
    bar.update(rows)
    bar.finish()
    out.write("  loading into the partitioned table...")
    out.flush()
    started = time.perf_counter()
    stored = last_use.visits_flush()
    flush_seconds = time.perf_counter() - started
    out.write(" done\n")
    assert stored == rows, (stored, rows)

    sample = list(_visit_rows(baseline_rows, start))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for row in sample:
            execute(cursor, _VISIT_INSERT, row)
    insert_seconds = (time.perf_counter() - started) * rows / baseline_rows
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.technical_visit'::regclass")
        partitions = cursor.fetchone()[0]
    return {"rows": rows, "flush_seconds": round(flush_seconds, 1), "rows_per_second": round(rows / flush_seconds),
            "insert_seconds_scaled": round(insert_seconds, 1), "partitions": partitions}


def run(args, *, out: TextIO) -> dict:
    out.write(__doc__.splitlines()[0] + "\n")
    pages = page_cost(args.requests, out)
    loaded = load(args.rows, args.baseline_rows, out)

    out.write(f"\nSchool page (teacher's dashboard), {args.requests} requests per variant:\n")
    header = f"{'visit log':<30} | {'median ms':>9} | {'ratio to off':>12}"
    out.write(header + "\n" + "-" * len(header) + "\n")
    for name, figures in pages.items():
        out.write(f"{name:<30} | {figures['median_ms']:>9.3f} | {figures['ratio']:>12.3f}\n")
    ratio = pages["on (Redis buffer)"]["ratio"]
    out.write(f"Target: ratio at most {TARGET_RATIO:.2f}: {'met' if ratio <= TARGET_RATIO else 'NOT met'}.\n")
    out.write(f"\nLoading {loaded['rows']:,} visits into {loaded['partitions']} monthly partitions:\n")
    out.write(f"  visits_flush (Redis -> COPY, batches of 5,000): {loaded['flush_seconds']:.1f} s "
              f"({loaded['rows_per_second']:,} rows/s)\n")
    out.write(f"  baseline, one INSERT per row (from {args.baseline_rows:,}, scaled): {loaded['insert_seconds_scaled']:.1f} s\n")
    return {"page": pages, "load": loaded, "target_met": ratio <= TARGET_RATIO}
