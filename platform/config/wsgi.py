"""WSGI entry point (gunicorn, runserver).

Production's settings unless told otherwise: a server started without DJANGO_SETTINGS_MODULE gets
production's refusals, never development's keys (``ops/run`` chooses development for its own).
"""

import os

import structlog
from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
structlog.get_logger("config").info(
    "web.started", database=settings.DATABASE_DESCRIPTION, broker=settings.BROKER_DESCRIPTION
)
