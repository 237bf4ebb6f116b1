"""PostgreSQL's own command-line tools (pg_dump, pg_restore), run against the product's database.

The tools must be at least the server's version: the embedded server's bundled ones when the
product runs embedded, otherwise those on PATH (or in ``POSTGRES_BIN_DIR``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection


def pg_tool(name: str) -> str:
    folder = settings.POSTGRES_BIN_DIR
    return str(Path(folder) / name) if folder else name


def pg_run(name: str, *args: str, database: str | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run a tool with the connection settings of the default database (or ``database`` by name),
    raising ``CalledProcessError`` if it fails."""
    db = connection.settings_dict
    command = [pg_tool(name), f"--dbname={database or db['NAME']}"]
    if db.get("HOST"):
        command.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        command.append(f"--port={db['PORT']}")
    if db.get("USER"):
        command.append(f"--username={db['USER']}")
    env = {**os.environ, **({"PGPASSWORD": db["PASSWORD"]} if db.get("PASSWORD") else {})}
    return subprocess.run([*command, *args], check=True, env=env, capture_output=True, **kwargs)
