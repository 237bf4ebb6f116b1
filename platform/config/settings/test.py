"""The test suite's settings (pyproject.toml): development's, with queues and keys of their own.

However pytest is started (``ops/test`` sets the same namespace), the suite's queues, cache keys
and scheduler keys stay apart from a product running on the same Redis. Tests that need
production's behaviour start a process with ``config.settings.production`` (its refusals happen at
import) or override the few settings they exercise.
"""

from __future__ import annotations

import os

from config.settings.development import *  # noqa: F403 (a settings module is its names)

DRAMATIQ_NAMESPACE = os.environ.get("DRAMATIQ_NAMESPACE", "pupiltrack-test")
CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": DRAMATIQ_NAMESPACE}}  # noqa: F405
DRAMATIQ_BROKER = {**DRAMATIQ_BROKER, "OPTIONS": {**DRAMATIQ_BROKER["OPTIONS"], "namespace": DRAMATIQ_NAMESPACE}}  # noqa: F405
AUTOMATION_CHECK_EXEMPT_MODULES = ("tests.",)  # the suite's own probe actors (shared.audit.checks)
