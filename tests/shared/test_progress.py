"""Progress suits where it is shown: whole lines every few percent in a log, one line redrawn on a terminal."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import OutputWrapper

from orchestration import pool
from shared.progress import Progress, is_terminal


class FakeClock:
    """A monotonic clock that moves ``step`` seconds (one unless told) each time it is read."""

    def __init__(self, step: float = 1.0):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def lines_of(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def test_a_log_gets_a_whole_line_every_five_percent_and_one_at_the_end():
    out = io.StringIO()
    with Progress(out, 200, label="  schools ", monotonic=FakeClock()) as bar:
        for done in range(1, 201):
            bar.update(done)

    text = out.getvalue()
    assert "\r" not in text
    assert 20 <= len(lines_of(text)) <= 21
    assert all(line.endswith("\n") for line in lines_of(text))
    assert lines_of(text)[-1].startswith("  schools [" + "#" * 30 + "] 200/200 100%")
    assert "in 200 s" in lines_of(text)[-1]


def test_a_terminal_gets_one_line_redrawn_and_one_newline_at_the_end():
    out = FakeTerminal()
    bar = Progress(out, 200, monotonic=FakeClock())
    for done in range(1, 201):
        bar.update(done, note=f"failed {done // 100}")
    bar.finish()  # after the last step too: nothing more

    text = out.getvalue()
    assert text.count("\r") == 200
    assert text.count("\n") == 1 and text.endswith("\n")
    assert text.rsplit("\r", 1)[1].startswith("[" + "#" * 30 + "] 200/200 100%  failed 2  in 200 s")


def test_a_terminal_is_redrawn_at_most_ten_times_a_second_but_always_shows_the_end():
    out = FakeTerminal()
    bar = Progress(out, 1000, monotonic=FakeClock(step=0.0001))
    for done in range(1, 1001):
        bar.update(done)

    assert out.getvalue().count("\r") == 2  # the first state and the last
    assert "1000/1000 100%" in out.getvalue()


def test_a_zero_total_is_complete_at_once():
    out = io.StringIO()
    bar = Progress(out, 0, monotonic=FakeClock())
    bar.update(0)
    bar.finish()

    assert lines_of(out.getvalue()) == [f"[{'#' * 30}] 0/0 100%  in 1 s\n"]


def test_a_count_with_no_total_writes_a_line_per_interval_and_the_last_count():
    out = io.StringIO()
    bar = Progress(out, label="dumped ", amount=lambda n: f"{n} MB", interval=10, monotonic=FakeClock())
    for done in range(1, 31):
        bar.update(done)
    bar.finish()

    assert lines_of(out.getvalue()) == ["dumped 1 MB\n", "dumped 10 MB\n", "dumped 20 MB\n", "dumped 30 MB\n"]


def test_a_message_replaces_the_last_state_on_a_terminal_and_follows_it_in_a_log():
    terminal, log = FakeTerminal(), io.StringIO()
    for out in (terminal, log):
        bar = Progress(out, label="dumped ", monotonic=FakeClock())
        bar.update(5)
        bar.finish("written in 2 s")

    assert terminal.getvalue() == "\rdumped 5\rwritten in 2 s\n"
    assert log.getvalue() == "dumped 5\nwritten in 2 s\n"


def test_finishing_what_never_started_writes_nothing():
    for out in (FakeTerminal(), io.StringIO()):
        Progress(out, 10).finish()
        assert out.getvalue() == ""


def test_the_terminal_test_asks_the_stream_written_to():
    assert is_terminal(OutputWrapper(FakeTerminal()))
    assert not is_terminal(OutputWrapper(io.StringIO()))
    assert not is_terminal(object())


def test_a_dumb_terminal_gets_lines(monkeypatch):
    monkeypatch.setenv("TERM", "dumb")
    assert not is_terminal(FakeTerminal())


def test_a_command_writes_whole_lines_to_a_command_stream():
    out = OutputWrapper(io.StringIO())
    bar = Progress(out, 3, monotonic=FakeClock())
    for done in range(1, 4):
        bar.update(done)

    assert "\r" not in out._out.getvalue()
    assert len(lines_of(out._out.getvalue())) == 3  # no newline added after each write by the wrapper


@pytest.mark.django_db
def test_top_up_pool_piped_prints_whole_lines():
    out = io.StringIO()
    size = pool.spare_count() + 3

    call_command("top_up_pool", size=size, stdout=out)

    text = out.getvalue()
    assert "\r" not in text
    assert [line.split("]")[1].split("%")[0] for line in text.splitlines()[:-1]] == [" 1/3  33", " 2/3  67", " 3/3 100"]
    assert all(line.endswith("\n") for line in lines_of(text))
    assert text.splitlines()[-1] == f"Spare pool: {size} ready (3 made now)."
