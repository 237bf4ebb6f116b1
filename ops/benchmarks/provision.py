"""Provisioning a school: the spare pool's claim versus django-tenants' default of migrating a new schema.

Both ways do the same work around the schema (school row, domain, first admin user, set-password
token); they differ only in where the schema comes from. For each fleet size N the fleet starts
empty and N schools are signed up one after another, each timed; the table gives the median and
the slowest. The pool is filled before the timed sign-ups, as its worker does in production; what
one spare costs to make is reported too, since that work moves off the sign-up path, not away.
"""

from __future__ import annotations

import statistics
import time
from typing import TextIO

from django.db import connection, transaction
from django_tenants.utils import schema_context
from psycopg2 import sql

from orchestration import pool
from orchestration.provisioning import school_provision
from shared.pg_tools import execute
from shared.progress import Progress
from shared.schools.models import Domain, School, SpareSchema
from shared.schools.selectors import school_hostname
from tenants.users.models import User
from tenants.users.services import user_create, user_set_password_token

TARGET_MEDIAN_MS = 50.0
TARGET_SPEEDUP = 10.0


def add_arguments(parser) -> None:
    parser.add_argument("--sizes", default="1,50,200",
                        help="fleet sizes to sign up, comma-separated (default: 1,50,200)")


def provision_default(*, name: str, subdomain: str, admin_email: str, number: int) -> School:
    """django-tenants' default path: save the tenant, then create_schema() runs every migration."""
    school = School.objects.create(schema_name=f"bench_default_{number:06d}", name=name)
    school.create_schema(check_if_exists=True, verbosity=0)
    with transaction.atomic():
        Domain.objects.create(domain=school_hostname(subdomain=subdomain), tenant=school, is_primary=True)
        with schema_context(school.schema_name):
            admin = user_create(email=admin_email, role=User.Role.SCHOOL_ADMIN)
            user_set_password_token(user=admin)
    return school


def provision_pooled(*, name: str, subdomain: str, admin_email: str, number: int) -> School:
    return school_provision(name=name, subdomain=subdomain, admin_email=admin_email).school


def fleet_clear() -> None:
    """Drop every school and spare, so that each fleet size starts from nothing."""
    connection.set_schema_to_public()
    names = list(School.objects.values_list("schema_name", flat=True))
    names += list(SpareSchema.objects.values_list("schema_name", flat=True))
    with connection.cursor() as cursor:
        for schema_name in names:
            execute(cursor, sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema_name)))
    Domain.objects.all().delete()
    School.objects.all().delete()
    SpareSchema.objects.all().delete()


def sign_up(count: int, provision, *, report) -> list[float]:
    timings = []
    for number in range(1, count + 1):
        started = time.perf_counter()
        provision(name=f"Bench School {number}", subdomain=f"bench{number}",
                  admin_email=f"head@bench{number}.example", number=number)
        timings.append((time.perf_counter() - started) * 1000)
        report(number, count)
    return timings


def reporter(out: TextIO, label: str):
    return Progress(out, label=f"  {label} ").update


def run(args, *, out: TextIO) -> dict:
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    out.write(__doc__.splitlines()[0] + "\n")
    pool.template_ensure()
    # One untimed sign-up each way first: a running service has its code paths warm.
    pool.pool_top_up(size=1)
    sign_up(1, provision_pooled, report=lambda d, t: None)
    fleet_clear()
    sign_up(1, provision_default, report=lambda d, t: None)
    rows = []
    refill_ms: list[float] = []
    for size in sizes:
        fleet_clear()
        default = sign_up(size, provision_default, report=reporter(out, f"{size:>4} schools, default way (migrate)"))
        fleet_clear()
        started = time.perf_counter()
        pool.pool_top_up(size=size, progress=reporter(out, f"{size:>4} schools, filling the spare pool"))
        refill_ms.append((time.perf_counter() - started) * 1000 / size)
        pooled = sign_up(size, provision_pooled, report=reporter(out, f"{size:>4} schools, claiming spares"))
        rows.append({
            "schools": size,
            "pool_median_ms": round(statistics.median(pooled), 2),
            "pool_max_ms": round(max(pooled), 2),
            "default_median_ms": round(statistics.median(default), 2),
            "default_max_ms": round(max(default), 2),
            "speedup": round(statistics.median(default) / statistics.median(pooled), 1),
        })
    fleet_clear()

    out.write("\n")
    header = f"{'schools':>8} | {'spare pool: median (max) ms':>28} | {'default: median (max) ms':>25} | {'speed-up':>8}"
    out.write(header + "\n" + "-" * len(header) + "\n")
    for row in rows:
        out.write(
            f"{row['schools']:>8} | {row['pool_median_ms']:>15.1f} ({row['pool_max_ms']:>8.1f}) | "
            f"{row['default_median_ms']:>12.1f} ({row['default_max_ms']:>8.1f}) | {row['speedup']:>7.0f}x\n"
        )
    refill = statistics.median(refill_ms)
    out.write(f"\nMaking one spare (recipe replay, by the worker, off the sign-up path): {refill:.0f} ms median.\n")
    largest = rows[-1]
    meets = largest["pool_median_ms"] < TARGET_MEDIAN_MS and largest["speedup"] >= TARGET_SPEEDUP
    out.write(
        f"Target at {largest['schools']} schools: median under {TARGET_MEDIAN_MS:.0f} ms and at least "
        f"{TARGET_SPEEDUP:.0f}x faster than the default: {'met' if meets else 'NOT met'}.\n"
    )
    return {"rows": rows, "spare_make_median_ms": round(refill, 1), "target_met": meets}
