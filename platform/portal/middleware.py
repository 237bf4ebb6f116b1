"""The school site's gates, after sign-in: the second factor (a signed-in account that has one, or
must have one, reaches no page until its session has passed it), then the Terms of Use (a school
admin reaches no page until the school has accepted the current version)."""

from __future__ import annotations

from django.contrib.auth import logout
from django.db import connection
from django.shortcuts import redirect
from django_tenants.utils import get_public_schema_name

from shared.compliance.terms_of_use import terms_acceptance_due
from tenants.configuration.selectors import second_factor_required
from tenants.users.models import User
from tenants.users.selectors import second_factor_device

# Pages that work before the second factor: signing in and out, what any visitor sees.
_OPEN = frozenset({"login", "login_code", "logout", "set_password", "set_password_done", "password_reset",
                   "password_reset_sent", "password_reset_confirm", "password_reset_complete",
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


# Pages a school admin reaches before the school has accepted the terms: the terms page itself,
# signing in and out, enrolling the second factor, the privacy notice, the school's logo and colours.
_BEFORE_TERMS = _OPEN | {"terms_of_use", "second_factor", "branding_theme"}


class TermsAcceptanceMiddleware:
    """Sends a school admin to the Terms of Use page, from every page but those of
    ``_BEFORE_TERMS``, until the school has accepted the current version: at the first sign-in after
    onboarding, and again whenever a new version is published. Teachers, parents and pupils are not
    stopped (only an admin accepts for the school). Runs after the second-factor gate, so an admin
    enrols and gives a code first. One query per page an admin opens."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if connection.schema_name == get_public_schema_name():
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or getattr(user, "role", None) != User.Role.SCHOOL_ADMIN:
            return None
        url_name = request.resolver_match.url_name if request.resolver_match is not None else None
        if url_name in _BEFORE_TERMS:
            return None
        if terms_acceptance_due(school_id=request.tenant.pk):
            return redirect("terms_of_use")
        return None
