"""Who may open which console screen, and the guards every console view goes through.

Operators sign in with a password and a one-time code; each screen names the roles allowed on it
and every view checks it (the navigation only hides what a role cannot open)."""

from __future__ import annotations

import uuid
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from shared.operators.models import Operator
from shared.operators.selectors import operator_for_user
from shared.redis_client import key, redis_client
from shared.technical.services import Actor

R = Operator.Role
ALL_ROLES = frozenset(R.values)
SCREENS: dict[str, frozenset[str]] = {
    "dashboard": ALL_ROLES,
    "clients": ALL_ROLES,
    "client_onboard": frozenset({R.ADMINISTRATOR}),
    "contract_cancel": frozenset({R.ADMINISTRATOR, R.BILLING}),
    "contacts": frozenset({R.ADMINISTRATOR, R.SUPPORT}),
    "correspondence": ALL_ROLES,
    "complaints": frozenset({R.ADMINISTRATOR, R.SUPPORT, R.DPO}),
    "billing": frozenset({R.ADMINISTRATOR, R.BILLING}),
    "prospects": frozenset({R.ADMINISTRATOR, R.SUPPORT}),
    "technical": frozenset({R.ADMINISTRATOR, R.DPO}),
    "retention": frozenset({R.ADMINISTRATOR, R.DPO}),
    "subject_requests": frozenset({R.ADMINISTRATOR, R.DPO}),
    "school_export": frozenset({R.ADMINISTRATOR, R.DPO}),
    # the breach and disclosure registers, the record of processing, the privacy notice's versions
    "breaches": frozenset({R.ADMINISTRATOR, R.DPO}),
    "disclosures": frozenset({R.ADMINISTRATOR, R.DPO}),
    "processing_record": frozenset({R.ADMINISTRATOR, R.DPO}),
    "notice_versions": frozenset({R.ADMINISTRATOR, R.DPO}),
    "raw_data": frozenset({R.ADMINISTRATOR}),
    # asking a school for access, and its data under the school's grant (each page also passes
    # shared.support.services.support_grant_require)
    "support_access": frozenset({R.ADMINISTRATOR, R.SUPPORT}),
}


def can(operator: Operator | None, screen: str) -> bool:
    return operator is not None and operator.role in SCREENS[screen]


def console_view(screen: str):
    """Signed in, with a verified one-time code, as an operator whose role may open ``screen``.
    Attaches ``request.operator`` and ``request.actor`` (for the change log)."""
    if screen not in SCREENS:
        raise ValueError(f"unknown console screen {screen!r}")

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated or not request.user.is_verified():
                return redirect_to_login(request.get_full_path())
            request.operator = operator_for_user(user=request.user)
            if request.operator is None:
                raise PermissionDenied("The console is for the vendor's operators.")
            if not can(request.operator, screen):
                raise PermissionDenied(f"Your role ({request.operator.get_role_display()}) cannot open this screen.")
            request.actor = Actor.operator(request.user)
            return view(request, *args, **kwargs)

        wrapper.console_screen = screen
        return wrapper

    return decorator


FORM_TOKEN_FIELD = "form_token"
_FORM_TOKEN_TTL = 24 * 3600


def new_form_token() -> str:
    return uuid.uuid4().hex


def submit_once(view):
    """Refuse a second submission of the same rendered form (a double click, a reload, the back
    button): each form carries a fresh token, spent atomically in Redis when it is posted. A
    submission that fails validation gives its token back, so the corrected form can be sent."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        token = request.POST.get(FORM_TOKEN_FIELD, "")
        if len(token) != 32:
            return HttpResponseBadRequest("This form is missing its submission token; reload the page.")
        spent = key("form-token", token)
        if not redis_client().set(spent, "1", nx=True, ex=_FORM_TOKEN_TTL):
            messages.warning(request, "That form was already submitted, so nothing was saved a second time.")
            back = request.headers.get("Referer", "")
            if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
                back = request.get_full_path()  # a POST-only action has no page of its own: the form's page
            return redirect(back)
        response = view(request, *args, **kwargs)
        if response.status_code == 200:  # re-rendered with errors: nothing was saved
            redis_client().delete(spent)
        return response

    return wrapper
