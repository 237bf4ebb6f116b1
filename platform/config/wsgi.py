"""WSGI entry point (gunicorn, runserver)."""

import os

import structlog
from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
structlog.get_logger("config").info(
    "web.started", database=settings.DATABASE_DESCRIPTION, broker=settings.BROKER_DESCRIPTION
)
