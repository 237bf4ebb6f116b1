"""The school site's second-factor gate: a signed-in account that has a second factor, or must
have one, reaches no page until its session has passed it."""

from __future__ import annotations

from django.contrib.auth import logout
from django.db import connection
from django.shortcuts import redirect
from django_tenants.utils import get_public_schema_name

from tenants.configuration.selectors import second_factor_required
from tenants.users.selectors import second_factor_device

# Pages that work before the second factor: signing in and out, what any visitor sees.
_OPEN = frozenset({"login", "login_code", "logout", "set_password", "set_password_done",
                   "privacy_notice", "privacy_notice_version", "privacy_notice_seen", "branding_logo"})


class SecondFactorMiddleware:
    """Runs after django_otp's OTPMiddleware, which tells whether the session is verified."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if connection.schema_name == get_public_schema_name():
            return None  # the console checks its code at sign-in
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return None
        url_name = request.resolver_match.url_name if request.resolver_match is not None else None
        if url_name in _OPEN:
            return None
        if second_factor_device(user=user) is not None:
            # A session that never gave a code (from before the device was added): sign in again.
            logout(request)
            return redirect("login")
        if url_name == "second_factor":
            return None  # enrolling
        if second_factor_required(user=user):
            return redirect("second_factor")
        return None
