"""Production: refuses to start without its secrets and a mail server; secure cookies, HSTS, SSL redirect, JSON logs.

Chosen with ``DJANGO_SETTINGS_MODULE=config.settings.production`` (the default of config/wsgi.py and
config/asgi.py). Every refusal happens here, at import, so a misconfigured server never serves.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from config.logging import configure_logging
from config.settings.base import *  # noqa: F403 (a settings module is its names)
from config.settings.base import backup_master_key, env_bool, xporter_secret_keys

PRODUCTION = True
if env_bool("DEBUG", False):
    raise ImproperlyConfigured("DEBUG must be off in production (config.settings.production)")
DEBUG = False

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:  # noqa: F405
    raise ImproperlyConfigured(
        "Production needs SECRET_KEY set to a random value of at least 50 characters "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')"
    )
# Keys the erasure ledger's digests of MIS ids. Must stay the same across restores, so it is its own
# setting rather than following a rotated SECRET_KEY.
ERASURE_LEDGER_KEY = os.environ.get("ERASURE_LEDGER_KEY") or SECRET_KEY
BACKUP_MASTER_KEY = backup_master_key(SECRET_KEY, required=True)
XPORTER_SECRET_KEYS = xporter_secret_keys(SECRET_KEY, required=True)

# Mail: a real server, over TLS, from a real address (shared.mail; the embedded catcher of
# development is never a production default).
if not MAIL_CONFIGURED:  # noqa: F405
    raise ImproperlyConfigured(
        "Production needs a mail server: EMAIL_URL (submission://user:password@smtp.example.com:587 for "
        "STARTTLS, smtp://...:465?ssl=True for implicit TLS) or EMAIL_HOST with EMAIL_PORT, EMAIL_HOST_USER, "
        "EMAIL_HOST_PASSWORD and EMAIL_USE_TLS or EMAIL_USE_SSL"
    )
if not (EMAIL_USE_TLS or EMAIL_USE_SSL):  # noqa: F405
    raise ImproperlyConfigured("Production sends mail only over TLS: set EMAIL_USE_TLS or EMAIL_USE_SSL "
                               "(or an EMAIL_URL of submission://, or with ?tls=True or ?ssl=True)")
if not os.environ.get("DEFAULT_FROM_EMAIL") or "@" not in DEFAULT_FROM_EMAIL:  # noqa: F405
    raise ImproperlyConfigured("Production needs DEFAULT_FROM_EMAIL, the address mail is sent from "
                               "(\"Pupil Tracking <no-reply@pupiltracking.example>\"); MAIL_FROM_SERVICE, "
                               "MAIL_FROM_PRIVACY and MAIL_FROM_NEWS may each name another")

SITE_SCHEME = os.environ.get("SITE_SCHEME", "https")
SITE_PORT = os.environ.get("SITE_PORT", "")

LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
configure_logging(json_output=LOG_FORMAT == "json", level=LOG_LEVEL)  # noqa: F405

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 365 * 24 * 3600
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# HSTS preload stays off until the vendor's domain is ready for the browsers' preload list:
# once listed, every subdomain (every school's site, any future host) is HTTPS-only in every
# browser for months, and leaving the list takes a browser release cycle. Turning it on is a
# decision for whoever owns the domain (HSTS_PRELOAD=true, then submit at hstspreload.org);
# until then `check --deploy`'s reminder (security.W021) is silenced for that reason alone.
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

# collectstatic has gathered the files; nothing is looked up in the app folders at run time.
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False
