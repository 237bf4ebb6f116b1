"""A one-line text progress bar for management commands and benchmarks (no dependency)."""

from __future__ import annotations

import time
from typing import TextIO

from django.core.management.base import OutputWrapper


class ProgressBar:
    """``[########------------]  120/900  13%  migrated 118, failed 2  ~42 s left``, redrawn in
    place on a terminal; elsewhere (a log, a pipe) one line every tenth of the way."""

    def __init__(self, out: TextIO, total: int, *, label: str = "", width: int = 30):
        self.out, self.total, self.label, self.width = out, total, label, width
        self.started = time.monotonic()
        self.tty = hasattr(out, "isatty") and out.isatty()
        self._last_tenth = -1
        # A command's stdout ends every write with a newline unless told otherwise.
        self._write = (lambda text: out.write(text, ending="")) if isinstance(out, OutputWrapper) else out.write

    def update(self, done: int, note: str = "") -> None:
        fraction = done / self.total if self.total else 1.0
        filled = round(self.width * fraction)
        elapsed = time.monotonic() - self.started
        left = f"  ~{elapsed / done * (self.total - done):.0f} s left" if 0 < done < self.total else ""
        line = (f"{self.label}[{'#' * filled}{'-' * (self.width - filled)}] {done:>{len(str(self.total))}}/{self.total} "
                f"{fraction:>4.0%}{'  ' + note if note else ''}{left}")
        if self.tty:
            self._write("\r" + line.ljust(100))
            if done >= self.total:
                self._write("\n")
        elif int(fraction * 10) != self._last_tenth or done >= self.total:
            self._last_tenth = int(fraction * 10)
            self._write(line + "\n")
        self.out.flush()
