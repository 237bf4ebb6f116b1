"""Moves the clock of a process that a test started, when the suite runs with ``--on-day``.

``tests.clock_travel`` puts this folder first on the ``PYTHONPATH`` that child processes inherit, with
the shift in seconds, so a command or server a test starts stands on the same moment as the tests.
"""

import os

_shift = os.environ.get("PUPILTRACK_TEST_CLOCK_SHIFT")
if _shift:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_shift), tick=True).start()
