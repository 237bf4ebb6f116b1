"""Progress of a long command, shown to suit where it goes (no dependency).

On a terminal: one line redrawn in place, ``[########------------]  120/900  13%  migrated 118  ~42 s left``,
ended by one newline. Anywhere else (a log file, a pipe, CI): whole lines only, one every few percent
and one at the end, so that a log holds ~21 readable lines and never one endless line of carriage
returns. With no total known (bytes of a dump), a running count instead: redrawn on a terminal, a
line every ``interval`` seconds elsewhere, and the last count at the end.

The terminal test is made on the stream written to (a command's ``self.stdout`` may be piped while
its stderr is still a terminal), through ``isatty()``, which Django's ``OutputWrapper`` passes on.

Its ``update(done, total)`` fits the services' progress callbacks as it is:
``pool_top_up(progress=bar.update)``; ``backup_write(progress=bar.update)`` counts bytes."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from typing import TextIO

from django.core.management.base import OutputWrapper

# A terminal redraws at most this often (seconds); the first and the last state are always drawn.
REDRAW_SECONDS = 0.1


def is_terminal(out) -> bool:
    """Whether ``out`` is an interactive terminal that understands a carriage return."""
    isatty = getattr(out, "isatty", None)
    try:
        return bool(callable(isatty) and isatty()) and os.environ.get("TERM") != "dumb"
    except ValueError:  # a closed stream
        return False


class Progress:
    """Progress of ``total`` steps (``None``: not known, a running count) written to ``out``.

    ``update(done, total=None, note="")`` after each step; ``finish(message=None)`` at the end (also
    safe after a failure, and idempotent): it ends the terminal's line, or writes the last state to a
    log if it is not there yet. ``message`` replaces the bar's last state with a line of its own.
    ``amount`` formats the count (say bytes as MB); ``monotonic`` is the clock for the time left."""

    def __init__(self, out: TextIO, total: int | None = None, *, label: str = "", width: int = 30,
                 every_percent: int = 5, interval: float = 10.0, amount: Callable[[int], str] = str,
                 terminal: bool | None = None, monotonic: Callable[[], float] = time.monotonic):
        self.out, self.total, self.label, self.width = out, total, label, width
        self.every_percent, self.interval, self.amount, self.monotonic = max(1, every_percent), interval, amount, monotonic
        self.terminal = is_terminal(out) if terminal is None else terminal
        self.started = monotonic()
        self.done, self.note = 0, ""
        self._shown = False  # anything written yet
        self._open_line = 0  # length of the terminal line being redrawn, 0 when none is open
        self._last_step = -1  # the last percent step (or interval) written to a log
        self._last_draw = None
        self._finished = False
        self._written = None  # the state (done, total, note) of the last thing written
        # A command's stdout ends every write with a newline unless told otherwise.
        self._write = (lambda text: out.write(text, ending="")) if isinstance(out, OutputWrapper) else out.write

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.finish()

    @property
    def complete(self) -> bool:
        return self.total is not None and self.done >= self.total

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        if self._finished:
            return
        if total is not None:
            self.total = total
        self.done, self.note = done, note
        now = self.monotonic()
        if self.terminal:
            if self.complete or self._last_draw is None or now - self._last_draw >= REDRAW_SECONDS:
                self._last_draw = now
                self._redraw(self.line(now))
            if self.complete:
                self.finish()
            return
        step = self._step(now)
        if step > self._last_step or self.complete:
            self._last_step = step
            self._emit(self.line(now) + "\n")
        if self.complete:
            self._finished = True

    def finish(self, message: str | None = None) -> None:
        """End the progress: on a terminal end the redrawn line (or replace it by ``message``); in a
        log write the last state unless already written, then ``message``."""
        if self._finished:
            if message is not None:
                self._emit(message + "\n")
            return
        self._finished = True
        now = self.monotonic()
        if self.terminal:
            if message is not None:
                self._redraw(message)
            elif self._shown and not self._wrote_last:
                self._redraw(self.line(now))
            if self._open_line:
                self._emit("\n")
                self._open_line = 0
            return
        if self._shown and not self._wrote_last:
            self._emit(self.line(now) + "\n")
        if message is not None:
            self._emit(message + "\n")

    def line(self, now: float) -> str:
        elapsed = now - self.started
        note = f"  {self.note}" if self.note else ""
        if self.total is None:
            return f"{self.label}{self.amount(self.done)}{note}"
        fraction = min(1.0, self.done / self.total) if self.total else 1.0
        filled = round(self.width * fraction)
        if self.complete:
            timing = f"  in {elapsed:.0f} s"
        elif self.done > 0:
            timing = f"  ~{elapsed / self.done * (self.total - self.done):.0f} s left"
        else:
            timing = ""
        shown = self.amount(self.done).rjust(len(self.amount(self.total)))
        return (f"{self.label}[{'#' * filled}{'-' * (self.width - filled)}] {shown}/{self.amount(self.total)} "
                f"{fraction:>4.0%}{note}{timing}")

    @property
    def _wrote_last(self) -> bool:
        return self._written == (self.done, self.total, self.note)

    def _step(self, now: float) -> int:
        if self.total is None:
            return int((now - self.started) // self.interval) if self.interval > 0 else self._last_step + 1
        fraction = min(1.0, self.done / self.total) if self.total else 1.0
        return int(fraction * 100) // self.every_percent

    def _redraw(self, text: str) -> None:
        # A line longer than the terminal wraps, and a carriage return then redraws only its tail.
        text = text[:max(20, shutil.get_terminal_size().columns - 1)]
        self._emit("\r" + text.ljust(self._open_line))
        self._open_line = max(len(text), 1)

    def _emit(self, text: str) -> None:
        self._shown = True
        self._written = (self.done, self.total, self.note)
        self._write(text)
        self.out.flush()
