"""One database connection serving 1,000 schools: backend memory with and without the schools bound.

Each school is touched the way a request touches it: a signed-in school admin's pupil list and a
pupil's page, in-process (the whole middleware stack and the product's database backend), on one
thread and so one connection. After each request the connection is checked as the WSGI handler
checks it at the end of a request (``close_old_connections``). The pass without the bound lets
one connection serve every school (``DB_CONN_MAX_SCHOOLS=0``); the pass with it closes the
connection after ``--memory-bound`` schools, and the next request opens a fresh backend. The age
limit (``DB_CONN_MAX_AGE``) is off in both passes so that only the schools bound acts.

Memory is the backend's own account of itself, ``pg_backend_memory_contexts`` (PostgreSQL 14+):
the ``CacheMemoryContext`` subtree (relation and catalog caches, what grows per schema) and all
contexts together, plus the backend process's anonymous resident memory (``RssAnon`` in
``/proc/<pid>/status``) when the database runs on this machine.
"""

from __future__ import annotations

import time
from http.cookies import SimpleCookie
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.db import close_old_connections, connection
from django.test import Client

from ops.benchmarks.fleet_load import LoadSchool, schools_ensure

CHECKPOINTS = (1, 10, 100, 250, 500, 1000, 2000, 5000)


def add_arguments(parser) -> None:
    parser.add_argument("--memory-schools", type=int, default=1000, help="schools one connection touches (default 1,000)")
    parser.add_argument("--memory-bound", type=int, default=None,
                        help="schools per connection in the bounded pass (default: DB_CONN_MAX_SCHOOLS)")
    parser.add_argument("--memory-every", type=int, default=10, help="read the backend's memory every N schools")


def backend_memory() -> dict:
    """The current connection's backend: CacheMemoryContext subtree, all contexts, RssAnon (bytes)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
        # Rows come depth-first from TopMemoryContext, each with its level: a subtree is the rows
        # after its root until the level drops back to the root's.
        cursor.execute("SELECT name, level, total_bytes FROM pg_backend_memory_contexts")
        rows = cursor.fetchall()
    cache = 0
    root_level = None
    for name, level, total in rows:
        if root_level is not None and level <= root_level:
            root_level = None
        if root_level is None and name == "CacheMemoryContext":
            root_level = level
        if root_level is not None:
            cache += total
    rss = None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                rss = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return {"pid": pid, "cache_bytes": cache, "total_bytes": sum(row[2] for row in rows), "rss_anon_bytes": rss}


def touch_schools(schools: list[LoadSchool], *, bound: int, every: int) -> dict:
    """Serve each school's pupil list and a pupil page on this thread's connection, reading the
    backend's memory every ``every`` schools and at the checkpoints."""
    saved = settings.DB_CONN_MAX_SCHOOLS, connection.settings_dict["CONN_MAX_AGE"], settings.VISIT_LOG_ENABLED
    settings.DB_CONN_MAX_SCHOOLS = bound
    connection.settings_dict["CONN_MAX_AGE"] = None  # no age limit: only the schools bound acts
    settings.VISIT_LOG_ENABLED = False  # not what is measured; keeps Redis out of the loop
    connection.close()
    client = Client()
    pids: set[int] = set()
    samples: dict[int, dict] = {}
    largest = {"cache_bytes": 0, "total_bytes": 0, "rss_anon_bytes": 0}
    started = time.perf_counter()
    try:
        for n, school in enumerate(schools, 1):
            client.defaults["HTTP_HOST"] = school.host
            client.cookies = SimpleCookie({"sessionid": school.staff_session})
            for path in ("/pupils/", f"/pupils/{school.pupil_ids[n % len(school.pupil_ids)]}/"):
                response = client.get(path)
                assert response.status_code == 200, (school.host, path, response.status_code)
            if n % every == 0 or n in CHECKPOINTS or n == len(schools):
                # Read before the end-of-request check may close it: the backend that served n schools.
                memory = backend_memory()
                if n in CHECKPOINTS or n == len(schools):
                    samples[n] = memory
                for key in largest:
                    largest[key] = max(largest[key], memory[key] or 0)
            pids.add(connection.connection.get_backend_pid())  # libpq's own record: no round trip
            close_old_connections()  # what the WSGI handler does at the end of every request
        seconds = time.perf_counter() - started
    finally:
        settings.DB_CONN_MAX_SCHOOLS, connection.settings_dict["CONN_MAX_AGE"], settings.VISIT_LOG_ENABLED = saved
        connection.close()
        connection.set_schema_to_public()
    return {"samples": samples, "largest": largest, "backends": len(pids), "seconds": seconds}


def _mb(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.1f}"


def memory_section(args, *, out: TextIO) -> dict:
    """Touch ``--memory-schools`` schools on one connection without and with the bound; print the table."""
    out.write(__doc__.splitlines()[0] + "\n")
    schools = schools_ensure(args.memory_schools, pupils=getattr(args, "pupils", 30), out=out)
    bound = args.memory_bound if args.memory_bound is not None else settings.DB_CONN_MAX_SCHOOLS
    out.write(f"  one connection, no bound, {len(schools):,} schools...\n")
    out.flush()
    unbounded = touch_schools(schools, bound=0, every=args.memory_every)
    out.write(f"  bound of {bound} schools per connection...\n")
    out.flush()
    bounded = touch_schools(schools, bound=bound, every=args.memory_every)

    out.write("\n")
    header = (f"{'schools served by the connection':<34} | {'catalog cache MB':>16} | {'all contexts MB':>15} | "
              f"{'RssAnon MB':>10}")
    out.write(header + "\n" + "-" * len(header) + "\n")
    for n, memory in sorted(unbounded["samples"].items()):
        out.write(f"{n:<34,} | {_mb(memory['cache_bytes']):>16} | {_mb(memory['total_bytes']):>15} | "
                  f"{_mb(memory['rss_anon_bytes']):>10}\n")
    out.write("\n")
    header = f"{'one thread, ' + format(len(schools), ',') + ' schools':<34} | {'largest backend: cache MB':>25} | {'all MB':>7} | {'RssAnon MB':>10} | {'backends':>8} | {'seconds':>7}"
    out.write(header + "\n" + "-" * len(header) + "\n")
    for label, run in (("no bound (one connection)", unbounded), (f"bound: {bound} schools per connection", bounded)):
        largest = run["largest"]
        out.write(f"{label:<34} | {_mb(largest['cache_bytes']):>25} | {_mb(largest['total_bytes']):>7} | "
                  f"{_mb(largest['rss_anon_bytes'] or None):>10} | {run['backends']:>8} | {run['seconds']:>7.1f}\n")
    first, last = min(unbounded["samples"]), max(unbounded["samples"])
    per_school = ((unbounded["samples"][last]["cache_bytes"] - unbounded["samples"][first]["cache_bytes"])
                  / max(last - first, 1))
    ratio = unbounded["largest"]["cache_bytes"] / max(bounded["largest"]["cache_bytes"], 1)
    out.write(f"Catalog cache grows {per_school / 2**20:.2f} MB per school served without the bound; with it the "
              f"largest backend holds {ratio:.1f}x less. Without the bound one connection served {len(schools):,} "
              f"schools in {unbounded['seconds']:.0f} s, well within the {settings.DATABASES['default']['CONN_MAX_AGE']} s "
              f"age limit alone.\n")

    def plain(run: dict) -> dict:
        return {"largest": run["largest"], "backends": run["backends"], "seconds": round(run["seconds"], 1),
                "samples": {str(n): {k: v for k, v in m.items() if k != "pid"} for n, m in run["samples"].items()}}

    return {"schools": len(schools), "bound": bound, "cache_mb_per_school": round(per_school / 2**20, 3),
            "unbounded": plain(unbounded), "bounded": plain(bounded)}
