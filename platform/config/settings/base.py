"""Settings every mode shares, read from the environment (every variable is listed in the README).

The modes are the modules beside this one, chosen by ``DJANGO_SETTINGS_MODULE``: ``development``
(``manage.py``'s default), ``test`` (pytest's, in pyproject.toml) and ``production`` (the web
server's default, config/wsgi.py). Importing settings starts nothing: ``DATABASE_URL`` and
``REDIS_URL`` are required, and on a bare machine ``ops/run``, ``ops/test``, ``ops/bench`` and
``manage.py`` start the embedded PostgreSQL and Redis and set them (ops/embedded.py).
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import dj_database_url
import dj_email_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[3]
PLATFORM_DIR = BASE_DIR / "platform"


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_required(name: str, what: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set: {what}. On a machine without one, ops/run, ops/test, ops/bench and manage.py "
            "start an embedded one and set it (eval \"$(python -m ops.embedded env)\" does the same in a shell)"
        )
    return value


# Development's key: refused by production, which needs a secret of its own.
DEV_SECRET_KEY = "dev-insecure-secret-key-only-for-local-development-never-in-production"

# A deployment written for the single settings module (PRODUCTION=true) must not start in development
# mode with the development secret key: the mode is the settings module now, and the old switch is refused.
if "PRODUCTION" in os.environ:
    raise ImproperlyConfigured(
        "PRODUCTION is no longer read: choose the mode with DJANGO_SETTINGS_MODULE=config.settings.production "
        "(or config.settings.development), and unset PRODUCTION"
    )


def backup_master_key(secret_key: str, *, required: bool) -> str:
    """BACKUP_MASTER_KEY, or (when not ``required``) one derived from the secret key, checked."""
    key = os.environ.get("BACKUP_MASTER_KEY", "").strip()
    if not key:
        if required:
            raise ImproperlyConfigured(
                "Production needs BACKUP_MASTER_KEY, the key that wraps every school's backup key: base64 of 32 "
                "random bytes (python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"
            )
        key = base64.b64encode(hashlib.sha256(f"backup-master-key:{secret_key}".encode()).digest()).decode()
    for name, candidate in [("BACKUP_MASTER_KEY", key)] + [("BACKUP_MASTER_KEYS_RETIRED", k) for k in BACKUP_MASTER_KEYS_RETIRED]:
        try:
            if len(base64.b64decode(candidate, validate=True)) != 32:
                raise ValueError
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be base64 of exactly 32 bytes") from None
    return key


def xporter_secret_keys(secret_key: str, *, required: bool) -> list[str]:
    """XPORTER_SECRET_KEYS (comma-separated Fernet keys: the first seals the schools' Xporter
    secrets, every one opens them), or (when not ``required``) one derived from the secret key."""
    keys = [k.strip() for k in os.environ.get("XPORTER_SECRET_KEYS", "").split(",") if k.strip()]
    if not keys:
        if required:
            raise ImproperlyConfigured(
                "Production needs XPORTER_SECRET_KEYS, the key that seals every school's Xporter secret: a Fernet "
                "key (python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
            )
        keys = [base64.urlsafe_b64encode(hashlib.sha256(f"xporter-secret-key:{secret_key}".encode()).digest()).decode()]
    for position, key in enumerate(keys, start=1):
        try:
            if len(base64.urlsafe_b64decode(key.encode())) != 32:
                raise ValueError
        except ValueError:
            raise ImproperlyConfigured(f"XPORTER_SECRET_KEYS: key {position} is not a Fernet key "
                                       "(url-safe base64 of 32 bytes)") from None
    return keys


# Xporter on Demand: where the schools' data is fetched from, and the application id Groupcall
# issued to the product (the relying party of every school's token; the school gives only its
# establishment number and its secret).
XPORTER_BASE_URL = os.environ.get("XPORTER_BASE_URL", "https://xporter.groupcall.com")
XPORTER_RELYING_PARTY = os.environ.get("XPORTER_RELYING_PARTY", "pupiltracking")

# Backups (shared.backups): each school's backup is encrypted with a data key of its own, stored
# wrapped by BACKUP_MASTER_KEY (base64 of 32 random bytes), never in the database; each mode sets it
# with backup_master_key(). Keys a rotation replaced stay readable (to unwrap what they wrapped)
# from BACKUP_MASTER_KEYS_RETIRED, comma-separated.
BACKUP_MASTER_KEYS_RETIRED = [k.strip() for k in os.environ.get("BACKUP_MASTER_KEYS_RETIRED", "").split(",") if k.strip()]
# Where `manage.py backup_school` writes, unless told (ignored by git, like all of .local/).
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", BASE_DIR / ".local" / "backups"))

# School sites live on <subdomain>.BASE_DOMAIN; the bare BASE_DOMAIN is the vendor's public host.
# `localhost` works in a browser with no hosts-file edit: *.localhost resolves to the loopback.
BASE_DOMAIN = os.environ.get("BASE_DOMAIN", "localhost").strip().lower().rstrip(".")
ALLOWED_HOSTS = [BASE_DOMAIN, f".{BASE_DOMAIN}"]

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
# Each mode calls config.logging.configure_logging with its LOG_FORMAT.
LOGGING_CONFIG = None

# --- Services ---------------------------------------------------------------------------------

_database = dj_database_url.parse(env_required("DATABASE_URL", "the PostgreSQL to use"))
DATABASE_DESCRIPTION = f"PostgreSQL {_database.get('HOST') or 'local socket'}:{_database.get('PORT') or 5432}/{_database['NAME']}"
# pg_dump / pg_restore: from PATH unless named (they must be at least the server's version; the
# embedded server's own are named by ops/embedded.py).
POSTGRES_BIN_DIR = os.environ.get("POSTGRES_BIN_DIR", "")

DATABASES = {
    "default": {
        **_database,
        # django-tenants' backend, which also closes a connection once it has served
        # DB_CONN_MAX_SCHOOLS schools (config/postgresql/base.py).
        "ENGINE": "config.postgresql",
        # Bounded: a backend caches catalog entries for every school schema it touches.
        "CONN_MAX_AGE": int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
        # The suite's database, and each benchmark's scratch one (ops/benchmarks), made and dropped.
        "TEST": {"NAME": os.environ.get("TEST_DATABASE_NAME", "test_pupiltrack")},
    }
}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# Time alone does not bound a connection's catalog cache (a busy connection serves hundreds of
# schools a minute), so a connection is also closed after serving this many schools (0: no bound).
DB_CONN_MAX_SCHOOLS = int(os.environ.get("DB_CONN_MAX_SCHOOLS", "100"))
# What sits between the product and PostgreSQL: nothing ("direct") or PgBouncer in session mode.
# A transaction-mode (or statement-mode) pooler hands each transaction to whichever server
# connection is free, while django-tenants sets a school's search_path with a session-level SET of
# its own, outside the transactions that follow: one school's queries could run in another's schema,
# and leave their search_path behind for the next client. So it is refused (README, "Connection pooling").
DB_POOL_MODE = os.environ.get("DB_POOL_MODE", "direct").strip().lower()
if DB_POOL_MODE not in {"direct", "session"}:
    raise ImproperlyConfigured(
        f"DB_POOL_MODE={DB_POOL_MODE!r} is refused: only 'direct' or 'session' (PgBouncer pool_mode = session) "
        "are safe, because each school's search_path is set per connection, not per transaction"
    )

REDIS_URL = env_required("REDIS_URL", "the Redis of the broker, the cache and the scheduler's lock")
BROKER_DESCRIPTION = f"Redis {REDIS_URL.split('@')[-1]}"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("DRAMATIQ_NAMESPACE", "pupiltrack"),
    }
}

# Mail (shared.mail) follows the outgoing TLS policy; in production it needs EMAIL_USE_TLS or
# EMAIL_USE_SSL (shared/outgoing.py). The server: EMAIL_URL (dj-email-url: smtp://user:password@host:port,
# submission://...:587 for STARTTLS, smtp://...:465?ssl=True for implicit TLS), or EMAIL_HOST, EMAIL_PORT,
# EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS, EMAIL_USE_SSL.
EMAIL_BACKEND = "shared.outgoing.OutgoingEmailBackend"
MAIL_CONFIGURED = bool(os.environ.get("EMAIL_URL") or os.environ.get("EMAIL_HOST"))
if os.environ.get("EMAIL_URL"):
    _email = dj_email_url.parse(os.environ["EMAIL_URL"])
    EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
    EMAIL_PORT = int(_email["EMAIL_PORT"] or 25)
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
    EMAIL_USE_TLS = bool(_email["EMAIL_USE_TLS"])
    EMAIL_USE_SSL = bool(_email["EMAIL_USE_SSL"])
else:
    EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
    # (no EMAIL_HOST: the embedded mail server of a development run, ops/mailcatcher.py, on 1025)
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT") or (25 if os.environ.get("EMAIL_HOST") else 1025))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
# The From address of each sender purpose (shared.mail.services.SENDERS); unset ones use
# DEFAULT_FROM_EMAIL.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"Pupil Tracking <no-reply@{BASE_DOMAIN}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MAIL_FROM = {
    "service": os.environ.get("MAIL_FROM_SERVICE", ""),
    "privacy": os.environ.get("MAIL_FROM_PRIVACY", ""),
    "news": os.environ.get("MAIL_FROM_NEWS", ""),
}
# The domain of each message's Message-ID (BASE_DOMAIN when unset).
MAIL_MESSAGE_ID_DOMAIN = os.environ.get("MAIL_MESSAGE_ID_DOMAIN", "")
# The development mailbox's folder (the embedded mail server's, ops/mailcatcher.py): development only.
MAIL_MAILBOX_DIR: Path | None = None

# --- Tenancy ----------------------------------------------------------------------------------

SHARED_APPS = [
    "django_tenants",
    "shared.schools",
    "shared.operators",
    "shared.clients",
    "shared.billing",
    "shared.marketing",
    "shared.audit",
    "shared.privacy",
    "shared.compliance",
    "shared.support",
    "shared.backups",
    "shared.mail",
    "tenants.users",  # in public: vendor operators' accounts
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django.contrib.admin",
    "django.contrib.postgres",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_dramatiq",
    "dramatiq_crontab",
    "ops",
    "console",
    "orchestration",
]
TENANT_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "tenants.users",  # in each school: that school's users, who die with its schema
    "django_otp",  # and their authenticator apps and recovery codes
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "tenants.pupils",
    "tenants.assessment",
    "tenants.xporter",
    "tenants.configuration",
    "tenants.rights",
    "portal",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "schools.School"
TENANT_DOMAIN_MODEL = "schools.Domain"
# ``SET search_path`` once per connection and school, not before every query (half of a page's
# statements were that). django-tenants issues it again after set_tenant (every request, every
# schema_context), after a new connection, and after a rollback or a rollback to a savepoint, which
# revert a SET made inside them; nothing in the product sets search_path any other way
# (tests/config/test_routing_cache.py holds both).
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenants"

# --- Web --------------------------------------------------------------------------------------

MIDDLEWARE = [
    "csp.middleware.CSPMiddleware",  # first, so that every response carries the policy
    "config.middleware.SchoolRoutingMiddleware",
    # Outside everything that may refuse a request (size, NUL, CSRF, submit-once), so that refused
    # requests are in the visit log too; it reads the user and the view after the response.
    "config.middleware.VisitLogMiddleware",
    "config.middleware.RequestSizeLimitMiddleware",  # before anything reads the body
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.NoStoreMiddleware",  # after auth (it asks who is signed in), after WhiteNoise
    "django.contrib.messages.middleware.MessageMiddleware",
    "shared.submit_once.SubmitOnceMiddleware",  # every POST spends its form's token once
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.middleware.SecondFactorMiddleware",
    "portal.middleware.TermsAcceptanceMiddleware",  # after the second factor: enrol, sign in, then accept
    "config.middleware.RequestLogContextMiddleware",
]

# Technical information: every request's IP address, user id, host, path and time, kept 365 days.
VISIT_LOG_ENABLED = env_bool("VISIT_LOG_ENABLED", True)
# Reverse proxies in front of the app whose X-Forwarded-For is trusted (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PLATFORM_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.configuration.context_processors.branding",
            ],
            "builtins": ["shared.submit_once"],  # {% submit_once_token %} in every POST form
        },
    }
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

AUTH_USER_MODEL = "users.User"
# Each URLconf (public host, school site) names its own login page "login".
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A set-password link printed at provisioning is good for this long.
PASSWORD_RESET_TIMEOUT = 7 * 24 * 3600
# A "Forgot password?" link (tenants.users.tokens) is good for this long, and for one use.
PASSWORD_RESET_LINK_TIMEOUT = int(os.environ.get("PASSWORD_RESET_LINK_TIMEOUT", str(3600)))
# "Forgot password?" requests allowed per address asked about (and ten times as many per client
# address) in each LOGIN_FAILURE_WINDOW, counted whether or not the address has an account.
PASSWORD_RESETS_ALLOWED = int(os.environ.get("PASSWORD_RESETS_ALLOWED", "5"))

# Host-only cookies (no Domain attribute): a session made on one school's host is never sent to
# another's. Each school's sessions are also stored in that school's own schema.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp) on every response of both sites: scripts, styles and images
# from the site's own origin only; no inline script or style anywhere (templates keep to the static
# files: tests/config/test_web_security.py scans them), no plugins, no framing, forms post only to
# the site itself. No exception for the raw-data admin: its scripts are files, and the few inline
# styles of django-tenants' admin index are blocked (cosmetic only).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# Request limits. A body larger than its view allows is refused with a 413 page naming the limit
# before any of it is read (config.middleware.RequestSizeLimitMiddleware, on Content-Length; a
# body without one, chunked, is read as empty by Django and so refused as an incomplete form).
# Views that take an upload (named by URL name) allow REQUEST_MAX_UPLOAD_BYTES: one file of at
# most 10 MB (a school document, a correspondence attachment, an Xporter JSON file) and its form;
# every other request REQUEST_MAX_BYTES. Django's own limits stand behind them.
REQUEST_MAX_BYTES = int(os.environ.get("REQUEST_MAX_BYTES", str(1024 * 1024)))
REQUEST_MAX_UPLOAD_BYTES = int(os.environ.get("REQUEST_MAX_UPLOAD_BYTES", str(11 * 1024 * 1024)))
REQUEST_UPLOAD_VIEWS = frozenset({"school_settings", "data_import", "correspondence_new", "results_upload"})
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BYTES  # a body's fields, files not counted
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # a larger upload is spooled to a temporary file
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000  # a marksheet posts one field a pupil
DATA_UPLOAD_MAX_NUMBER_FILES = 10

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [PLATFORM_DIR / "static"]
# Schools' configuration files (logos, uploaded documents): one folder per school schema, deleted
# whole by retention. Kept out of the checkout's tracked files (``.local/`` is ignored).
SCHOOL_FILES_ROOT = Path(os.environ.get("SCHOOL_FILES_ROOT", BASE_DIR / ".local" / "school-files"))
# The vendor's own files (correspondence attachments): like the schools', outside the code, random
# names, served only through the console to operators whose role may see them.
VENDOR_FILES_ROOT = Path(os.environ.get("VENDOR_FILES_ROOT", BASE_DIR / ".local" / "vendor-files"))
# The copy of the vendor's erasure ledger kept outside the database (a restore of public brings back
# an older ledger; ``erasure_replay --public`` reads this too). Blank: erasure-ledger/public.jsonl
# under VENDOR_FILES_ROOT. It must live where a database restore does not reach.
ERASURE_LEDGER_MIRROR = os.environ.get("ERASURE_LEDGER_MIRROR") or None
# An access export's one-time link stays valid this many days.
EXPORT_LINK_DAYS = int(os.environ.get("EXPORT_LINK_DAYS", "7"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Operator console -----------------------------------------------------------------------------

# Failed sign-ins allowed per account (and, ten times that, per client address) in the window, on the
# console and on each school site (shared.signin).
LOGIN_FAILURES_ALLOWED = int(os.environ.get("LOGIN_FAILURES_ALLOWED", "5"))
LOGIN_FAILURE_WINDOW = "15m"
OTP_TOTP_ISSUER = "Pupil Tracking"
RATELIMIT_USE_CACHE = "default"

# --- Workers ----------------------------------------------------------------------------------

DRAMATIQ_NAMESPACE = os.environ.get("DRAMATIQ_NAMESPACE", "pupiltrack")
DRAMATIQ_BROKER = {
    "BROKER": "dramatiq.brokers.redis.RedisBroker",
    "OPTIONS": {"url": REDIS_URL, "namespace": DRAMATIQ_NAMESPACE},
    "MIDDLEWARE": [
        "dramatiq.middleware.AgeLimit",
        "dramatiq.middleware.TimeLimit",
        "dramatiq.middleware.Callbacks",
        "dramatiq.middleware.Retries",
        "dramatiq.middleware.ShutdownNotifications",
        "django_dramatiq.middleware.DbConnectionsMiddleware",
        "config.broker.SchoolSchemaMiddleware",
        "config.broker.DeadLetterLogMiddleware",
        "config.recycling.WorkerRecycleMiddleware",
    ],
}
# A worker process is replaced after this many messages, plus up to the jitter (0: never).
WORKER_MAX_MESSAGES = int(os.environ.get("WORKER_MAX_MESSAGES", "1000"))
WORKER_MAX_MESSAGES_JITTER = int(os.environ.get("WORKER_MAX_MESSAGES_JITTER", "100"))
DRAMATIQ_AUTODISCOVER_MODULES = ["tasks"]
# The scheduler holds a Redis lock, so a second scheduler started by mistake waits as a standby
# (blocking forever) instead of firing jobs too; shared.scheduling also fires each period only once.
DRAMATIQ_CRONTAB = {"REDIS_URL": REDIS_URL, "LOCK_BLOCKING_TIMEOUT": None}

# Spare school schemas kept migrated, so that signing a school up claims one instead of
# migrating a new schema (see orchestration.pool).
SCHOOL_POOL_SIZE = int(os.environ.get("SCHOOL_POOL_SIZE", "5"))
