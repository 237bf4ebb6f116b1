"""PostgreSQL's own command-line tools (pg_dump, pg_restore, psql), run against the product's database,
and the one way the product puts names into SQL.

The tools must be at least the server's version: the embedded server's bundled ones when the
product runs embedded, otherwise those on PATH (or in ``POSTGRES_BIN_DIR``).

A schema, table or partition name is never pasted into SQL text: statements are composed with
``psycopg2.sql`` (``sql.Identifier`` for names, ``sql.Literal`` for the values DDL cannot take as
parameters) and rendered by ``sql_text`` or run by ``execute``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from psycopg2 import sql


def pg_tool(name: str) -> str:
    folder = settings.POSTGRES_BIN_DIR
    return str(Path(folder) / name) if folder else name


def pg_command(name: str, *args: str, database: str | None = None, connect: bool = True) -> tuple[list[str], dict]:
    """The command line and environment of a tool connecting to the default database (or
    ``database`` by name); ``connect=False`` for a tool that only converts (``pg_restore -f -``)."""
    db = connection.settings_dict
    command = [pg_tool(name)]
    if connect:
        command.append(f"--dbname={database or db['NAME']}")
        if db.get("HOST"):
            command.append(f"--host={db['HOST']}")
        if db.get("PORT"):
            command.append(f"--port={db['PORT']}")
        if db.get("USER"):
            command.append(f"--username={db['USER']}")
    env = {**os.environ, **({"PGPASSWORD": db["PASSWORD"]} if connect and db.get("PASSWORD") else {})}
    return [*command, *args], env


def pg_run(name: str, *args: str, database: str | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run a tool with the connection settings of the default database (or ``database`` by name),
    raising ``CalledProcessError`` if it fails."""
    command, env = pg_command(name, *args, database=database)
    return subprocess.run(command, check=True, env=env, capture_output=True, **kwargs)


def pg_popen(name: str, *args: str, database: str | None = None, connect: bool = True, **kwargs) -> subprocess.Popen:
    """Start a tool without waiting, for streaming through its pipes (a dump too large to hold in
    memory). The caller waits for it and checks its exit code."""
    command, env = pg_command(name, *args, database=database, connect=connect)
    return subprocess.Popen(command, env=env, **kwargs)


def database_url(settings_dict: dict, *, application_name: str) -> str:
    """A DATABASE_URL for another process (a web server or worker started apart) to reach the
    database whose Django settings are ``settings_dict``."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(settings_dict.get("HOST") or "", safe="")  # a socket folder is quoted whole
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{settings_dict['NAME']}?application_name={application_name}"


def _rendered(part: sql.Composable, raw_cursor, *, escape_percent: bool) -> str:
    if isinstance(part, sql.Composed):
        return "".join(_rendered(each, raw_cursor, escape_percent=escape_percent) for each in part.seq)
    text = part.as_string(raw_cursor)
    # A name or literal holding "%" would otherwise be read as a placeholder when parameters follow.
    if escape_percent and not isinstance(part, (sql.SQL, sql.Placeholder)):
        text = text.replace("%", "%%")
    return text


def sql_text(statement: sql.Composable, *, params_follow: bool = False) -> str:
    """The statement as the text PostgreSQL receives: names quoted, literals escaped. With
    ``params_follow``, a "%" inside a name or literal is doubled, for text that is then executed
    with parameters. Rendering needs the connection (its encoding), not a round trip."""
    with connection.cursor() as cursor:
        return _rendered(statement, cursor.cursor, escape_percent=params_follow)


def execute(cursor, statement: sql.Composable, params=None) -> None:
    """Run a composed statement on a Django cursor (which takes only text), with ``params``."""
    if params is None:
        cursor.execute(_rendered(statement, cursor.cursor, escape_percent=False))
    else:
        cursor.execute(_rendered(statement, cursor.cursor, escape_percent=True), params)
