"""Project wiring: settings, URLconfs for the public host and school sites, middleware, logging,
the embedded services and the dramatiq broker middleware. No business logic lives here.

Tenancy: ``shared.schools.School`` is the django-tenants tenant model. A request to
``<subdomain>.<BASE_DOMAIN>`` enters that school's schema; the bare ``BASE_DOMAIN`` is routed to
``public`` without a tenant row, and any other host (``www.`` variants included) gets the 404 page
(``middleware.SchoolRoutingMiddleware``). Auth, sessions and contenttypes are in both app lists, so
school users, their passwords and sessions live in their school's schema and die with it; session and
CSRF cookies are host-only, and one school's session id does not exist in another's session table.

Request hardening, each rule in one place: the middleware (413 before a too-large body is read, 400 for
a NUL anywhere, ``no-store`` for signed-in pages, the maintenance page of a school being migrated), a
strict Content-Security-Policy from the settings (no inline script or style, nothing from outside the
site), ``redaction.SECRET_ROUTES`` for links that carry secrets, and, in ``shared``, ``submit_once``
(each form's token spent once), ``query`` (ids and dates from requests), ``dates`` (the ranges every
date is checked against), ``csvfiles`` (spreadsheet-formula escaping), ``files`` (uploads accepted by
content), ``signin`` (the throttle) and ``outgoing`` (TLS for connections out)."""
