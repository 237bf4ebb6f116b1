"""``python -m ops.benchmarks <name> [options]``"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys

# name on the command line -> module of this package
BENCHMARKS = {"provision": "provision", "visits": "visits", "import": "xporter_import", "pages": "pages",
              "retention": "retention", "export": "export", "fleet": "fleet", "fleet-load": "fleet_load", "hardening": "hardening",
              "mail": "mail"}


@contextlib.contextmanager
def scratch_database():
    """A fresh, migrated database for the run (dropped afterwards), on the configured server."""
    from django.db import connection

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    os.environ["TEST_DATABASE_NAME"] = f"bench_pupiltrack_{os.getpid()}"
    # Keep the product's own queues and logs out of the measurement.
    os.environ.setdefault("DRAMATIQ_NAMESPACE", "pupiltrack-bench")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    import dramatiq

    parser = argparse.ArgumentParser(prog="ops/bench", description="Benchmarks of the platform.")
    sub = parser.add_subparsers(dest="name", required=True)
    modules = {}
    for name, module in BENCHMARKS.items():
        modules[name] = importlib.import_module(f"ops.benchmarks.{module}")
        modules[name].add_arguments(sub.add_parser(name, help=modules[name].__doc__.splitlines()[0]))
    args = parser.parse_args(argv)

    with scratch_database():
        results = modules[args.name].run(args, out=sys.stdout)
    dramatiq.get_broker().flush_all()
    print(json.dumps({"benchmark": args.name, **results}, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
