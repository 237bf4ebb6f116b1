"""Submit-once: every state-changing form of both sites (the operator console and the school
site) carries a fresh token, and a POST spends it atomically in Redis (SET NX), so a double click,
a reload, the back button or five concurrent copies of one request have exactly one effect.

Enforced centrally by ``SubmitOnceMiddleware`` on every POST, so a new form cannot forget it; the
few views where a second submission is harmless and the first must never be refused (signing in
and out, setting a password from its one-time link) are exempt by their Django base class, and any
other exemption is a visible ``@submit_once_exempt`` on the view. Templates write the hidden field
with ``{% submit_once_token %}`` (a template builtin: no ``{% load %}`` needed).

Only the spent tokens are stored (for a day, longer than any form stays open in practice), never
the issued ones: an issued token costs nothing until it is posted.
"""

from __future__ import annotations

import re
import uuid

import structlog
from django import template
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from shared.redis_client import key, redis_client

log = structlog.get_logger(__name__)

FORM_TOKEN_FIELD = "form_token"
SPENT_TOKEN_TTL_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
# Posting one of these twice does no harm, and refusing the first (a sign-in form left open
# overnight, a password link) would: they need no token.
EXEMPT_VIEW_CLASSES = (auth_views.LoginView, auth_views.LogoutView, auth_views.PasswordResetConfirmView)
MISSING_TOKEN_MESSAGE = "This form is missing its submission token; reload the page and send it again."
ALREADY_SUBMITTED_MESSAGE = "That form was already submitted, so nothing was saved a second time."


def new_form_token() -> str:
    return uuid.uuid4().hex


def form_token_spend(*, token: str) -> bool:
    """Spend ``token``: True for the one caller that spends it first, False for every other,
    however many race (one Redis SET NX)."""
    return bool(redis_client().set(key("form-token", token), "1", nx=True, ex=SPENT_TOKEN_TTL_SECONDS))


def form_token_release(*, token: str) -> None:
    """Give a token back: its submission saved nothing (the form came back with its errors)."""
    redis_client().delete(key("form-token", token))


def submit_once_exempt(view):
    """Mark a view whose POSTs need no token (say why where it is used)."""
    view.submit_once_exempt = True
    return view


def _exempt(view_func) -> bool:
    if getattr(view_func, "submit_once_exempt", False):
        return True
    view_class = getattr(view_func, "view_class", None)
    return view_class is not None and (getattr(view_class, "submit_once_exempt", False)
                                       or issubclass(view_class, EXEMPT_VIEW_CLASSES))


class SubmitOnceMiddleware:
    """Requires and spends the form's token on every POST that reaches a view (after the CSRF
    check, so a forged request spends nothing). A second submission is sent back where it came
    from with a message saying nothing was saved twice; a submission that saved nothing (the form
    re-rendered with its errors, or a 400) gives its token back, so the corrected form can be sent."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        token = getattr(request, "_submit_once_spent", None)
        if token is not None and response.status_code in (200, 400):
            form_token_release(token=token)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or _exempt(view_func):
            return None
        token = request.POST.get(FORM_TOKEN_FIELD, "")
        if not _TOKEN.match(token):
            log.info("submit_once.token_missing")
            return HttpResponseBadRequest(MISSING_TOKEN_MESSAGE)
        if not form_token_spend(token=token):
            log.info("submit_once.repeat_refused")
            messages.warning(request, ALREADY_SUBMITTED_MESSAGE)
            back = request.headers.get("Referer", "")
            if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
                back = request.get_full_path()  # a POST-only action has no page of its own: its URL
            return redirect(back)
        request._submit_once_spent = token
        return None


register = template.Library()


@register.simple_tag
def submit_once_token():
    """The hidden field that lets ``SubmitOnceMiddleware`` refuse a second submission of this form."""
    return format_html('<input type="hidden" name="{}" value="{}">', FORM_TOKEN_FIELD, new_form_token())
