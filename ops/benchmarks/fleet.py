"""Fleet migrations: migrate_fleet with nothing to do against django-tenants' migrate_schemas, and one new migration applied to every school.

1. ``--schools`` schools (2,000) are provisioned, from the recipe as the pool makes them, and
   the spare pool filled.
2. ``manage.py migrate_fleet`` with nothing to do (the median of ``--repeat`` runs) next to
   django-tenants' ``migrate_schemas --tenant`` on the same schools, with its standard executor (it
   opens every schema and runs Django's migrate there, which plans, renders the models' state and
   emits post_migrate even when nothing is due). Targets: under 10 s, and at least 10x faster.
3. One new migration, an index on every school's pupils table (written at run time into a
   temporary folder, never the checkout), applied to every school by ``migrate_fleet`` with
   ``--processes`` workers, the template and the spares included.

Further sections run afterwards on the same database: the functions in ``SECTIONS``, then each
module named in ``SECTION_MODULES`` (its ``add_arguments(parser)`` and ``sections(args, *, out)``).
"""

from __future__ import annotations

import importlib
import io
import statistics
import time
from collections.abc import Callable
from typing import TextIO

from django.core.management import call_command
from django.db import connection

from ops.migration_probe import extra_migration
from orchestration import fleet, pool
from orchestration.provisioning import school_provision
from shared.progress import Progress
from shared.schools.models import School, SpareSchema

TARGET_NOTHING_TO_DO_SECONDS = 10.0
TARGET_SPEEDUP = 10.0
PROBE_INDEX = "fleet_bench_probe"
PROBE_SQL = f"CREATE INDEX {PROBE_INDEX} ON pupils_pupil (surname, forename)"

# Modules adding sections to this benchmark, run after SECTIONS; each has add_arguments(parser)
# and sections(args, *, out) -> dict, whose figures are returned under the module's short name.
SECTION_MODULES: list[str] = ["ops.benchmarks.fleet_capacity"]  # connections, memory, load


def add_arguments(parser) -> None:
    parser.add_argument("--schools", type=int, default=2000, help="schools in the fleet (default 2,000)")
    parser.add_argument("--processes", type=int, default=fleet.default_processes(),
                        help="migrate_fleet's worker processes (default: min(4, CPUs) = %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of migrate_fleet with nothing to do (median)")
    for name in SECTION_MODULES:
        importlib.import_module(name).add_arguments(parser)


def fleet_provision(count: int, *, out: TextIO) -> None:
    with Progress(out, count, label="  provisioning schools ") as bar:
        for n in range(1, count + 1):
            school_provision(name=f"Fleet School {n}", subdomain=f"fleet{n}", admin_email=f"head@fleet{n}.example")
            bar.update(n)


def migrate_fleet(args, *, out: TextIO | None = None) -> float:
    started = time.perf_counter()
    call_command("migrate_fleet", processes=args.processes, stdout=out or io.StringIO())
    connection.set_schema_to_public()
    return time.perf_counter() - started


def section_nothing_to_do(args, *, out: TextIO) -> dict:
    out.write(f"  migrate_fleet, nothing to do, {args.repeat} runs...\n")
    runs = [migrate_fleet(args) for _ in range(args.repeat)]
    out.write("  django-tenants' migrate_schemas on the same schools...\n")
    out.flush()
    started = time.perf_counter()
    call_command("migrate_schemas", tenant=True, executor="standard", interactive=False, verbosity=0)
    baseline = time.perf_counter() - started
    connection.set_schema_to_public()
    fleet_seconds = statistics.median(runs)
    speedup = baseline / fleet_seconds
    met = fleet_seconds < TARGET_NOTHING_TO_DO_SECONDS and speedup >= TARGET_SPEEDUP
    return {
        "rows": [(f"`migrate_fleet`, nothing to do (median of {args.repeat})", fleet_seconds, ""),
                 ("django-tenants `migrate_schemas --tenant`, nothing to do (standard executor)", baseline, ""),
                 ("`migrate_fleet` against `migrate_schemas`, nothing to do", None, f"**{speedup:,.0f}x** faster; targets (under {TARGET_NOTHING_TO_DO_SECONDS:.0f} s, at least "
                            f"{TARGET_SPEEDUP:.0f}x): **{'met' if met else 'NOT met'}**")],
        "nothing_to_do_seconds": round(fleet_seconds, 3), "nothing_to_do_runs": [round(r, 3) for r in runs],
        "migrate_schemas_seconds": round(baseline, 1), "speedup": round(speedup, 1), "target_met": met,
    }


def section_one_migration(args, *, out: TextIO) -> dict:
    out.write(f"  one new migration (an index on pupils) for every school, {args.processes} processes:\n")
    spares = SpareSchema.objects.count()
    with extra_migration(PROBE_SQL):
        probe = pool.migration_fingerprint()
        seconds = migrate_fleet(args, out=out)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s", [PROBE_INDEX])
        (indexes,) = cursor.fetchone()
    at_probe = School.objects.filter(migration_fingerprint=probe, migration_state=School.MigrationState.OK).count()
    assert at_probe == args.schools and indexes == args.schools + spares + 1, (at_probe, indexes)
    # Later sections run the code without the probe: its index stays (harmless), and the schools
    # are recorded at the code's state again, as a deploy that dropped the migration would leave them.
    School.objects.update(migration_fingerprint=pool.migration_fingerprint())
    pool.template_ensure()
    return {
        "rows": [(f"`migrate_fleet`, one new migration (an index) on all {args.schools:,}, {args.processes} processes",
                  seconds, f"{seconds * 1000 / args.schools:.0f} ms a school, template and {spares} spares included")],
        "one_migration_seconds": round(seconds, 1),
    }


SECTIONS: list[Callable[..., dict]] = [section_nothing_to_do, section_one_migration]


def run(args, *, out: TextIO) -> dict:
    out.write(__doc__.splitlines()[0] + "\n")
    pool.template_ensure()
    fleet_provision(args.schools, out=out)
    pool.pool_top_up()  # the spare pool, as the worker keeps it
    rows, figures = [], {"schools": args.schools, "processes": args.processes}
    for section in SECTIONS:
        result = section(args, out=out)
        rows += result.pop("rows")
        figures.update(result)

    out.write(f"\n| fleet migrations, {args.schools:,} schools | seconds | |\n|---|---:|---|\n")
    for label, seconds, note in rows:
        out.write(f"| {label} | {'' if seconds is None else f'{seconds:,.2f}'} | {note} |\n")
    for name in SECTION_MODULES:
        out.write("\n")
        figures[name.rsplit(".", 1)[-1]] = importlib.import_module(name).sections(args, out=out)
    return figures
