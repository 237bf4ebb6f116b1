"""Error pages that need the request (its site's look, the privacy footer) and, for a bad request, a
message meant for the person: the reason a ``BadRequest`` names, never a technical one.

A 404 or 403 keeps the navigation of the site it happened on: a school's site shows the school's
bar (its menu when someone is signed in), the console shows the console's menu to a signed-in
operator; an address no site answers to (an unknown subdomain) gets the bare vendor page. The
templates extend ``base``, which this module chooses."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.db import connection
from django.shortcuts import render
from django_tenants.utils import get_public_schema_name

from shared.operators.selectors import operator_for_user


def site_base(request) -> str:
    """The base template of the site ``request`` is on (for error pages rendered outside any view)."""
    tenant = getattr(request, "tenant", None)
    if tenant is not None and tenant.schema_name != get_public_schema_name() \
            and connection.schema_name == tenant.schema_name:
        return "portal/base.html"
    if tenant is not None and request.path.startswith("/console/"):
        user = getattr(request, "user", None)
        if getattr(request, "operator", None) is None and user is not None and user.is_authenticated \
                and user.is_verified():
            request.operator = operator_for_user(user=user)
        return "console/base.html"
    return "base.html"


def bad_request(request, exception):
    reason = str(exception) if isinstance(exception, BadRequest) else ""
    return render(request, "400.html", {"reason": reason, "base": site_base(request)}, status=400)


def page_not_found(request, exception):
    return render(request, "404.html", {"base": site_base(request)}, status=404)


def permission_denied(request, exception):
    return render(request, "403.html", {"base": site_base(request), "exception": str(exception)}, status=403)
