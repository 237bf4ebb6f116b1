"""The product's settings, one module per mode (cookiecutter-django's layout).

``base`` holds what every mode shares; ``development``, ``test`` and ``production`` add what differs
(debug, keys, cookies and HSTS, log format, static files). ``DJANGO_SETTINGS_MODULE`` names one of
them: ``config.settings.development`` is manage.py's default, ``config.settings.test`` pytest's and
``config.settings.production`` the web server's (config/wsgi.py, config/asgi.py), so a deployment
that forgets to choose gets production's refusals rather than development's conveniences.
"""
