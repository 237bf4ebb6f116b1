"""Fleet capacity: backend memory after 1,000 schools with and without the bound; the sites under load.

The two sections of ``ops/bench fleet`` about connections and load (``fleet_memory`` and
``fleet_load``), callable on their own or from the fleet benchmark: ``add_arguments(parser)`` adds
their options, ``sections(args, out=...)`` runs both and returns their figures. They share the
schools: the load test's 200 are the first 200 of the memory section's 1,000.
"""

from __future__ import annotations

from typing import TextIO

from ops.benchmarks import fleet_load, fleet_memory


def add_arguments(parser) -> None:
    fleet_memory.add_arguments(parser)
    fleet_load.add_arguments(parser)
    parser.add_argument("--skip-memory", action="store_true", help="leave out the backend-memory section")
    parser.add_argument("--skip-load", action="store_true", help="leave out the load test")


def memory_section(args, *, out: TextIO) -> dict:
    return fleet_memory.memory_section(args, out=out)


def load_section(args, *, out: TextIO) -> dict:
    return fleet_load.load_section(args, out=out)


def sections(args, *, out: TextIO) -> dict:
    figures = {}
    if not args.skip_memory:
        figures["memory"] = memory_section(args, out=out)
        out.write("\n")
    if not args.skip_load:
        figures["load"] = load_section(args, out=out)
    return figures

