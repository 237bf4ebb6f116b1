"""What one school-site request costs in-process: queries and CPU milliseconds per page.

Run by the load section of ``ops/bench fleet`` as a script in a process of its own, so that it can
measure another checkout's code (``--compare-with``) the same way: ``PYTHONPATH`` names the code,
``DATABASE_URL`` the benchmark's scratch database, and the first argument is a JSON object::

    {"host": "load1.localhost", "session": "<session key>", "requests": 20,
     "pages": [["staff: pupil list", "/pupils/"], ...]}

It prints one JSON object: for each kind, the queries of one warm request, and the median CPU
(``time.process_time``) and wall-clock milliseconds of ``requests`` more. The whole middleware stack
runs (Django's test client: WSGI handler, no network). Imports nothing of ``ops``: the other
checkout may not have this file.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time


def measure(spec: dict) -> dict:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=spec["host"])
    if spec.get("session"):
        client.cookies["sessionid"] = spec["session"]
    figures = {}
    for kind, path in spec["pages"]:
        for _ in range(3):  # warm: the connection's catalog cache for the school, the caches
            status = client.get(path).status_code
        if status != 200:
            figures[kind] = {"path": path, "status": status}
            continue
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        statements = [query["sql"] for query in queries.captured_queries]
        cpu, wall = [], []
        for _ in range(spec["requests"]):
            started_cpu, started = time.process_time(), time.perf_counter()
            client.get(path)
            cpu.append((time.process_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
        figures[kind] = {
            "path": path, "status": status, "queries": len(statements),
            "search_path_sets": sum(1 for sql in statements if sql.startswith("SET search_path")),
            "cpu_ms": round(statistics.median(cpu), 2), "wall_ms": round(statistics.median(wall), 2),
        }
    return figures


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DEBUG"] = "false"
    import warnings

    warnings.simplefilter("ignore")  # no static files collected: WhiteNoise says so
    import django

    django.setup()
    print(json.dumps(measure(spec)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
