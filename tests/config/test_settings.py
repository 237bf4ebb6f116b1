"""Configuration from the environment, production's refusals, and settings that start nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "Q9x-" * 10 + "z" * 10
XPORTER_KEY = "aq0Vd3L8VXQ9oPfGkAhhMDXhH1ZtDDwBUTTI1sgeQCI="
# A real mail server's settings, as production needs them (set unless a test overrides them).
MAIL_ENV = {"EMAIL_URL": "submission://mailer:secret@smtp.pupiltracking.example:587",
            "DEFAULT_FROM_EMAIL": "Pupil Tracking <no-reply@pupiltracking.example>"}

PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name, None) for name in [
    "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "ALLOWED_HOSTS", "BASE_DOMAIN", "LOG_FORMAT"]}))
"""


PRODUCTION = "config.settings.production"
DEVELOPMENT = "config.settings.development"


def django_process(settings_module: str = DEVELOPMENT, **env_overrides: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, **MAIL_ENV}
    for name, value in env_overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run([sys.executable, "-c", PRINT_SETTINGS], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_production_refuses_to_start_without_a_secret_key():
    result = django_process(PRODUCTION, SECRET_KEY=None, DEBUG=None)

    assert result.returncode != 0
    assert "Production needs SECRET_KEY set to a random value" in result.stderr


def test_production_refuses_a_short_secret_key():
    result = django_process(PRODUCTION, SECRET_KEY="changeme", DEBUG=None)

    assert result.returncode != 0
    assert "Production needs SECRET_KEY" in result.stderr


def test_production_refuses_the_development_secret_key():
    result = django_process(PRODUCTION, SECRET_KEY="dev-insecure-secret-key-only-for-local-development-never-in-production",
                            DEBUG=None)

    assert result.returncode != 0
    assert "Production needs SECRET_KEY" in result.stderr


def test_production_refuses_debug():
    result = django_process(PRODUCTION, SECRET_KEY=GOOD_KEY, DEBUG="true")

    assert result.returncode != 0
    assert "DEBUG must be off in production" in result.stderr


def test_production_turns_on_secure_cookies_hsts_and_ssl_redirect():
    result = django_process(PRODUCTION, SECRET_KEY=GOOD_KEY, DEBUG=None, BASE_DOMAIN="pupiltracking.example",
                            BACKUP_MASTER_KEY="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
                            XPORTER_SECRET_KEYS=XPORTER_KEY)

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "ALLOWED_HOSTS": ["pupiltracking.example", ".pupiltracking.example"],
        "BASE_DOMAIN": "pupiltracking.example",
        "LOG_FORMAT": "json",
    }


def test_development_defaults():
    result = django_process(DEVELOPMENT, SECRET_KEY=None, DEBUG=None, BASE_DOMAIN=None, LOG_FORMAT=None)

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is True
    assert values["BASE_DOMAIN"] == "localhost"
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["LOG_FORMAT"] == "console"


def test_the_old_production_switch_is_refused_rather_than_ignored():
    for settings_module in (DEVELOPMENT, PRODUCTION):
        result = django_process(settings_module, PRODUCTION="true", SECRET_KEY=GOOD_KEY,
                                BACKUP_MASTER_KEY="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
                                XPORTER_SECRET_KEYS=XPORTER_KEY)

        assert result.returncode != 0
        assert "PRODUCTION is no longer read: choose the mode with DJANGO_SETTINGS_MODULE" in result.stderr


def test_importing_settings_starts_no_server(tmp_path):
    data_dir = tmp_path / "embedded"
    for settings_module in (DEVELOPMENT, "config.settings.test", PRODUCTION):
        result = django_process(settings_module, DATABASE_URL=None, REDIS_URL=None, PUPILTRACK_DATA_DIR=str(data_dir),
                                SECRET_KEY=GOOD_KEY, BACKUP_MASTER_KEY="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
                                XPORTER_SECRET_KEYS=XPORTER_KEY)

        assert result.returncode != 0
        assert "DATABASE_URL is not set: the PostgreSQL to use" in result.stderr
    assert not data_dir.exists()


def test_a_bad_boolean_is_a_clear_error():
    result = django_process(DEBUG="maybe")

    assert result.returncode != 0
    assert "DEBUG must be true or false, not 'maybe'" in result.stderr


def _deploy_check(**env_overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": PRODUCTION, "SECRET_KEY": GOOD_KEY,
           "BACKUP_MASTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
           "XPORTER_SECRET_KEYS": XPORTER_KEY, "BASE_DOMAIN": "pupiltracking.example", **MAIL_ENV,
           **env_overrides}
    env.pop("DEBUG", None)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def test_the_deploy_check_is_clean_with_production_settings():
    result = _deploy_check()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (1 silenced)." in result.stdout


def test_turning_hsts_preload_on_is_clean_too_with_nothing_silenced():
    result = _deploy_check(HSTS_PRELOAD="true")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_the_xporter_secret_key():
    result = django_process(PRODUCTION, SECRET_KEY=GOOD_KEY, DEBUG=None, XPORTER_SECRET_KEYS=None,
                            BACKUP_MASTER_KEY="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")

    assert result.returncode != 0
    assert "Production needs XPORTER_SECRET_KEYS" in result.stderr


def test_a_malformed_xporter_secret_key_is_refused_at_start():
    for settings_module in (DEVELOPMENT, PRODUCTION):
        result = django_process(settings_module, SECRET_KEY=GOOD_KEY, DEBUG=None,
                                XPORTER_SECRET_KEYS=f"{XPORTER_KEY},not-a-key",
                                BACKUP_MASTER_KEY="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")

        assert result.returncode != 0
        assert "XPORTER_SECRET_KEYS: key 2 is not a Fernet key" in result.stderr


def test_development_derives_an_xporter_secret_key():
    script = ("import django; django.setup(); from django.conf import settings; "
              "from cryptography.fernet import Fernet; [Fernet(k) for k in settings.XPORTER_SECRET_KEYS]; "
              "print(len(settings.XPORTER_SECRET_KEYS))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": DEVELOPMENT, "SECRET_KEY": "a development secret"}
    for name in ("DEBUG", "XPORTER_SECRET_KEYS"):
        env.pop(name, None)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "1"


PRODUCTION_KEYS = {"SECRET_KEY": GOOD_KEY, "DEBUG": None, "BACKUP_MASTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
                   "XPORTER_SECRET_KEYS": XPORTER_KEY}


def test_production_refuses_to_start_without_a_mail_server():
    result = django_process(PRODUCTION, **PRODUCTION_KEYS, EMAIL_URL=None, EMAIL_HOST=None)

    assert result.returncode != 0
    assert "Production needs a mail server: EMAIL_URL" in result.stderr


def test_production_refuses_mail_without_tls():
    for mail in ({"EMAIL_URL": "smtp://mailer:secret@smtp.pupiltracking.example:25"},
                 {"EMAIL_URL": None, "EMAIL_HOST": "smtp.pupiltracking.example", "EMAIL_USE_TLS": None,
                  "EMAIL_USE_SSL": None}):
        result = django_process(PRODUCTION, **PRODUCTION_KEYS, **mail)

        assert result.returncode != 0
        assert "Production sends mail only over TLS" in result.stderr


def test_production_refuses_to_start_without_a_from_address():
    result = django_process(PRODUCTION, **PRODUCTION_KEYS, DEFAULT_FROM_EMAIL=None)

    assert result.returncode != 0
    assert "Production needs DEFAULT_FROM_EMAIL" in result.stderr


def test_mail_settings_come_from_email_url_or_the_usual_variables():
    script = ("import django, json; django.setup(); from django.conf import settings as s; "
              "print(json.dumps([s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, "
              "s.EMAIL_USE_TLS, s.EMAIL_USE_SSL, s.DEFAULT_FROM_EMAIL, s.MAIL_FROM]))")

    def values(**env):
        environment = {**os.environ, "DJANGO_SETTINGS_MODULE": PRODUCTION, **{k: v for k, v in PRODUCTION_KEYS.items()
                                                                            if v}, **MAIL_ENV, **env}
        environment.pop("DEBUG", None)
        result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=environment, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    assert values(EMAIL_URL="smtp://mailer:s%40cret@smtp.example.org:465?ssl=True", MAIL_FROM_PRIVACY="dpo@example.org") == [
        "smtp.example.org", 465, "mailer", "s@cret", False, True, "Pupil Tracking <no-reply@pupiltracking.example>",
        {"service": "", "privacy": "dpo@example.org", "news": ""}]
    assert values(EMAIL_URL="", EMAIL_HOST="mx.example.org", EMAIL_PORT="587", EMAIL_HOST_USER="u",
                  EMAIL_HOST_PASSWORD="p", EMAIL_USE_TLS="true")[:6] == ["mx.example.org", 587, "u", "p", True, False]
