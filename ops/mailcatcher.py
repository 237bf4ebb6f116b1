"""The embedded mail server of a development run: with no mail settings (no ``EMAIL_URL`` or
``EMAIL_HOST``), ``ops/run`` starts this (ops/Procfile's ``mail``), an aiosmtpd SMTP server on
``localhost:EMAIL_PORT`` (1025) that delivers nowhere: it keeps every message as a ``.eml`` file in
the ignored data folder (``.local/mail/``, or ``$PUPILTRACK_DATA_DIR/mail``), where the development
mailbox page (``/dev/mailbox/`` on the vendor's host) lists and shows them. With mail settings it
starts nothing and says where mail goes.

Run alone: ``python -m ops.mailcatcher`` (``--port``)."""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import threading
import uuid
from pathlib import Path

from ops.embedded import data_dir

DEFAULT_PORT = 1025


def mailbox_dir() -> Path:
    path = data_dir() / "mail"
    path.mkdir(parents=True, exist_ok=True)
    return path


class Keeper:
    """aiosmtpd handler: each message's bytes to its own file, written whole then renamed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # files are named in order of arrival (the mailbox lists them newest first), not by the
        # wall clock: each message carries its own Date header
        self.sequence = itertools.count(len(list(folder.glob("*.eml"))) + 1)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        name = f"{next(self.sequence):015d}-{uuid.uuid4().hex[:8]}"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(envelope.original_content or envelope.content)
        partial.rename(self.folder / f"{name}.eml")
        return "250 Kept in the development mailbox"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMAIL_PORT") or DEFAULT_PORT))
    args = parser.parse_args(argv)
    if os.environ.get("EMAIL_URL") or os.environ.get("EMAIL_HOST"):
        target = os.environ.get("EMAIL_HOST") or "the EMAIL_URL server"
        print(f"mail: sent to {target} (mail settings are set); no embedded mail server", flush=True)
        threading.Event().wait()  # stays up, as honcho stops every process when one ends
        return 0
    from aiosmtpd.controller import Controller

    folder = mailbox_dir()
    controller = Controller(Keeper(folder), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"mail: embedded SMTP server on localhost:{args.port}, keeping every message in {folder}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # honcho stops its processes with SIGTERM
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
