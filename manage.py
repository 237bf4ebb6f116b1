#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

Outside production, with no DATABASE_URL / REDIS_URL, it starts the embedded PostgreSQL and Redis
first (ops/embedded.py) and points its own process at them, as ``ops/run`` and ``ops/test`` do;
the settings themselves start nothing.
"""

import os
import sys

PRODUCTION_SETTINGS = "config.settings.production"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    if os.environ["DJANGO_SETTINGS_MODULE"] != PRODUCTION_SETTINGS and not (
        os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")
    ):
        from ops.embedded import environment_for_unset_services

        os.environ.update(environment_for_unset_services())
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
