"""Development: debug on, a fixed development secret key, keys derived from it, console logs.

Nothing needs setting but ``DATABASE_URL`` and ``REDIS_URL``, which ``ops/run``, ``ops/test``,
``ops/bench`` and ``manage.py`` set to the embedded servers when they are unset.
"""

from __future__ import annotations

import os
from pathlib import Path

from config.logging import configure_logging
from config.settings.base import *  # noqa: F403 (a settings module is its names)
from config.settings.base import backup_master_key, env_bool, xporter_secret_keys

PRODUCTION = False
DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY") or DEV_SECRET_KEY  # noqa: F405
# Keys the erasure ledger's digests of MIS ids. Must stay the same across restores, so it is its own
# setting rather than following a rotated SECRET_KEY.
ERASURE_LEDGER_KEY = os.environ.get("ERASURE_LEDGER_KEY") or SECRET_KEY
BACKUP_MASTER_KEY = backup_master_key(SECRET_KEY, required=False)
XPORTER_SECRET_KEYS = xporter_secret_keys(SECRET_KEY, required=False)

# How links to the sites are written (set-password links, the URLs `ops/run` prints).
SITE_SCHEME = os.environ.get("SITE_SCHEME", "http")
SITE_PORT = os.environ.get("SITE_PORT", "8000")

# With no mail settings, `ops/run` starts an embedded mail server (ops/mailcatcher.py) that keeps
# every message here; the development mailbox (/dev/mailbox/ on the vendor's host) shows them.
MAIL_MAILBOX_DIR = Path(os.environ.get("PUPILTRACK_DATA_DIR") or BASE_DIR / ".local") / "mail"  # noqa: F405

LOG_FORMAT = os.environ.get("LOG_FORMAT", "console")
configure_logging(json_output=LOG_FORMAT == "json", level=LOG_LEVEL)  # noqa: F405

# Serve straight from the app folders, and pick up edited files.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
