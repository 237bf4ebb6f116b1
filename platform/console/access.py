"""Who may open which console screen, and the guards every console view goes through.

Operators sign in with a password and a one-time code; each screen names the roles allowed on it
and every view checks it (the navigation only hides what a role cannot open). Every POST also spends its
form's submit-once token (``shared.submit_once``, for both sites)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from shared.changes import Actor
from shared.operators.models import Operator
from shared.operators.selectors import operator_for_user

Role = Operator.Role
ALL_ROLES = frozenset(Role.values)
SCREENS: dict[str, frozenset[str]] = {
    "dashboard": ALL_ROLES,
    "clients": ALL_ROLES,
    "client_onboard": frozenset({Role.ADMINISTRATOR}),
    "contract_cancel": frozenset({Role.ADMINISTRATOR, Role.BILLING}),
    "contacts": frozenset({Role.ADMINISTRATOR, Role.SUPPORT}),
    "correspondence": ALL_ROLES,
    "complaints": frozenset({Role.ADMINISTRATOR, Role.SUPPORT, Role.DPO}),
    "billing": frozenset({Role.ADMINISTRATOR, Role.BILLING}),
    "prospects": frozenset({Role.ADMINISTRATOR, Role.SUPPORT}),
    # the lists optional communications and direct marketing go to (consent in force only)
    "mailing_lists": frozenset({Role.ADMINISTRATOR, Role.SUPPORT}),
    "technical": frozenset({Role.ADMINISTRATOR, Role.DPO}),
    "retention": frozenset({Role.ADMINISTRATOR, Role.DPO}),
    "subject_requests": frozenset({Role.ADMINISTRATOR, Role.DPO}),
    "school_export": frozenset({Role.ADMINISTRATOR, Role.DPO}),
    # the breach, disclosure and recipient registers, the record of processing, the privacy notice's and
    # the Terms of Use's versions
    "breaches": frozenset({Role.ADMINISTRATOR, Role.DPO}),
    "disclosures": frozenset({Role.ADMINISTRATOR, Role.DPO}),
    "recipients": frozenset({Role.ADMINISTRATOR, Role.DPO}),
    "processing_record": frozenset({Role.ADMINISTRATOR, Role.DPO}),
    "notice_versions": frozenset({Role.ADMINISTRATOR, Role.DPO}),
    "terms_versions": frozenset({Role.ADMINISTRATOR, Role.DPO}),
    "raw_data": frozenset({Role.ADMINISTRATOR}),
    # asking a school for access, and its data under the school's grant (each page also passes
    # shared.support.services.support_grant_require)
    "support_access": frozenset({Role.ADMINISTRATOR, Role.SUPPORT}),
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
