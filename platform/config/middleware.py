"""Web middleware: route each request to its school (or the vendor's public host), close the
sites of cancelled schools, show the maintenance page of a school being migrated; refuse a body
larger than its view allows and a request holding a NUL; keep signed-in pages out of caches; bind the log context for the
request; queue its visit-log row (not for the load balancer's health probe)."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from django.conf import settings
from django.core.exceptions import BadRequest
from django.db import connection
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django_tenants.middleware.main import TenantMainMiddleware

from config.health import HealthView
from config.redaction import path_redact
from shared import clock
from shared.audit.services import visit_push
from shared.client_address import client_ip
from shared.process_cache import request_scope
from shared.schools.models import Domain, School, public_tenant
from shared.schools.selectors import school_for_host

log = structlog.get_logger("web")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
MAINTENANCE_RETRY_AFTER_SECONDS = 30  # a school's migration takes seconds


class SchoolRoutingMiddleware(TenantMainMiddleware):
    """``<subdomain>.BASE_DOMAIN`` enters that school's schema; the bare BASE_DOMAIN is the
    vendor's public host; any other host gets the 404 page. Which school a host serves comes from
    the process's routing cache (``school_for_host``), which every write to a school or a domain
    invalidates in every process; the request's other per-page lookups share its tokens
    (``shared.process_cache.request_scope``)."""

    def __call__(self, request):
        with request_scope():
            return super().__call__(request)

    @staticmethod
    def hostname_from_request(request):
        # The host as sent, port dropped, case folded. Not django-tenants' default, which strips a
        # leading ``www.`` and so would serve hosts the product never names (``www.<school>``).
        return request.get_host().split(":")[0].lower()

    def get_tenant(self, domain_model, hostname):
        if hostname == settings.BASE_DOMAIN:
            return public_tenant()
        school = school_for_host(hostname)
        if school is None:
            raise Domain.DoesNotExist(hostname)
        return school

    def process_request(self, request):
        response = super().process_request(request)
        if response is None and getattr(request.tenant, "status", None) == School.Status.CANCELLED:
            # The contract is cancelled: the site closes at once; the vendor returns the data.
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            return render(request, "closed.html", {"school": request.tenant}, status=403)
        if response is None and getattr(request.tenant, "migration_state", "ok") != School.MigrationState.OK:
            # Its schema is migrating (or a failed migration was rolled back): no query may touch the
            # school's tables, which the migration holds locked, or meet code ahead of its schema.
            connection.set_schema_to_public()
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            response = render(request, "maintenance.html", {"school": request.tenant}, status=503)
            response["Retry-After"] = str(MAINTENANCE_RETRY_AFTER_SECONDS)
            return response
        return response

    def no_tenant_found(self, request, hostname):
        if request.path.startswith(settings.STATIC_URL):
            # Static files are the same on every host: the 404 page below links its stylesheet and
            # icon on the very host it is shown on, so they must load there too (WhiteNoise serves them).
            request.tenant = public_tenant()
            self.setup_url_routing(request, force_public=True)
            return None
        request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
        return render(request, "404.html", {"unknown_host": True}, status=404)


class RefuseNulMiddleware:
    """Refuses (400) a request whose path, query string or form fields hold a NUL character. No page
    means one, PostgreSQL cannot store or compare one in text, and refusing here keeps every view from
    having to know."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", "") or any(
                "\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values):
            raise BadRequest("The address holds a character that is not allowed (NUL).")
        if request.method == "POST" and request.content_type in _FORM_TYPES and any(
                "\x00" in key or "\x00" in value for key, values in request.POST.lists() for value in values):
            raise BadRequest("The form holds a character that is not allowed (NUL).")
        return self.get_response(request)


_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


class RequestSizeLimitMiddleware:
    """Refuses, with a 413 page naming the limit, a request whose declared Content-Length is over
    what its view accepts (REQUEST_MAX_UPLOAD_BYTES for the REQUEST_UPLOAD_VIEWS, REQUEST_MAX_BYTES
    otherwise), before any of the body is read. Placed right after the school routing, which
    chooses the URLconf the view is looked up in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # Django reads a body of unknown length as empty
        limit = self.limit_for(request) if declared > settings.REQUEST_MAX_BYTES else settings.REQUEST_MAX_BYTES
        if declared > limit:
            log.info("http.request_too_large", declared_bytes=declared, limit_bytes=limit)
            return render(request, "413.html", {"limit": _megabytes(limit), "size": _megabytes(declared)}, status=413)
        return self.get_response(request)

    @staticmethod
    def limit_for(request) -> int:
        try:
            match = resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
        except Resolver404:
            return settings.REQUEST_MAX_BYTES
        return settings.REQUEST_MAX_UPLOAD_BYTES if match.url_name in settings.REQUEST_UPLOAD_VIEWS \
            else settings.REQUEST_MAX_BYTES


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every response to a signed-in user (their pages and files hold
    personal data: no browser or proxy may keep a copy), unless the view chose its own caching (the
    school's logo and colours). Static files are served before this runs and keep their caching;
    the one-time access-export download, which needs no sign-in, sets no-store itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


class RequestLogContextMiddleware:
    """Binds ``request_id``, ``schema`` and ``user_id`` for every log event of the request and
    writes one ``http.request`` event. It logs the view's name, not the path: paths can carry
    tokens (set-password and export links; see ``config.redaction``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        structlog.contextvars.clear_contextvars()
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        user = getattr(request, "user", None)
        structlog.contextvars.bind_contextvars(
            request_id=request_id,
            schema=connection.schema_name,
            user_id=user.pk if user is not None and user.is_authenticated else None,
        )
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        match = getattr(request, "resolver_match", None)
        log.info(
            "http.request",
            method=request.method,
            view=match.view_name if match else None,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        structlog.contextvars.clear_contextvars()
        return response


class VisitLogMiddleware:
    """Queues one visit-log row per request (IP address, user id, host, path, time) for the
    ``visits_flush`` actor: one Redis RPUSH, no database write on the request's path. The health
    probe (config.health) is left out: a load balancer's poll every few seconds is nobody's visit."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.enabled = settings.VISIT_LOG_ENABLED

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if self.enabled and not (match is not None and getattr(match.func, "view_class", None) is HealthView):
            # A secret-bearing URL (config.redaction) is kept as its route, matched or not.
            path = path_redact(request.path, match.url_name if match is not None else None)
            user = getattr(request, "user", None)
            visit_push(
                occurred_at=clock.now(),
                host=request.get_host().split(":")[0].lower(),
                path=path,
                method=request.method,
                status=response.status_code,
                ip=client_ip(request),
                user_id=user.pk if user is not None and user.is_authenticated else None,
                schema_name=connection.schema_name,
            )
        return response
