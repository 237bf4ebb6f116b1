"""Worker-process lifetime: dramatiq worker processes are replaced after a number of messages.

A process that has run thousands of jobs across hundreds of schools holds whatever Python memory
they left behind (caches, fragmentation); gunicorn's ``max_requests`` bounds the web workers the
same way. dramatiq has no per-process message limit, but its master process reloads the whole pool
on SIGHUP: each worker process stops taking messages, finishes the ones it is running (within
``--worker-shutdown-timeout``), exits, and the master re-executes itself with fresh processes.
Messages a process had fetched but not started go back to the queue. So once a worker process has
handled ``WORKER_MAX_MESSAGES`` messages (plus a random jitter of up to
``WORKER_MAX_MESSAGES_JITTER``, so that processes of several masters do not all restart together)
it sends SIGHUP to its master, once.

Only processes started by dramatiq's command line (``rundramatiq``) do this: the hook that records
the master runs on a worker process's boot, which in-process workers (tests) never emit.
"""

from __future__ import annotations

import os
import random
import signal
import threading

import dramatiq
import structlog
from django.conf import settings

log = structlog.get_logger("worker")


class WorkerRecycleMiddleware(dramatiq.Middleware):
    def __init__(self):
        self.limit = 0
        self.master_pid: int | None = None
        self.handled = 0
        self.signalled = False
        self._lock = threading.Lock()

    def after_process_boot(self, broker):
        self.master_pid = os.getppid()
        # Drawn here, in each worker process after dramatiq has re-seeded its random generator.
        if settings.WORKER_MAX_MESSAGES:
            self.limit = settings.WORKER_MAX_MESSAGES + random.randint(0, settings.WORKER_MAX_MESSAGES_JITTER)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        self._count()

    def after_skip_message(self, broker, message):
        self._count()

    def _count(self) -> None:
        with self._lock:
            self.handled += 1
            due = (self.limit and self.handled >= self.limit and not self.signalled
                   and self.master_pid is not None and os.getppid() == self.master_pid)
            if due:
                self.signalled = True
        if due:
            log.info("worker.recycle", messages=self.handled, pid=os.getpid())
            os.kill(self.master_pid, signal.SIGHUP)
