"""gunicorn settings for the web server: ``gunicorn --config ops/gunicorn.conf.py config.wsgi``.

Every value comes from the environment (README, "Configuration"), the settings module too:
production's unless ``DJANGO_SETTINGS_MODULE`` says otherwise (config/wsgi.py; ``ops/run`` chooses
development). Worker processes are replaced
after ``WEB_MAX_REQUESTS`` requests (plus a random jitter, so that they do not all restart at
once): a long-lived process serving every school accumulates memory, and the database connections
of its threads go with it. Each connection is bounded on its own too (``DB_CONN_MAX_AGE``,
``DB_CONN_MAX_SCHOOLS``), because a PostgreSQL backend caches catalog entries for every school
schema it touches.
"""

import os

bind = os.environ.get("WEB_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_WORKERS", "2"))
# More than one thread selects gunicorn's gthread worker; each thread holds its own connection.
threads = int(os.environ.get("WEB_THREADS", "4"))
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "1000"))
max_requests_jitter = int(os.environ.get("WEB_MAX_REQUESTS_JITTER", "100"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
# The request log is the product's own (config.middleware.RequestLogContextMiddleware), which logs
# the view's name and never the path; should an access log be turned on, its records pass through
# config.redaction like every other record in the worker processes.
accesslog = None
