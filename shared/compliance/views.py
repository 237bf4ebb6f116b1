"""The privacy notice's public page, the same on the vendor's host and on every school's site, and
the "seen it" button of the banner that lists what changed since a browser's last visit; the Terms of
Use's public page on the vendor's host (a school's admins read and accept them on the school's site,
``portal.terms_views``)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from shared.compliance import notices, terms_of_use

# The id of the last version of the notice this browser was shown in full or dismissed.
SEEN_COOKIE = "privacy_notice_seen"
SEEN_COOKIE_AGE = 2 * 365 * 24 * 3600


def seen_version_id(request) -> int | None:
    raw = request.COOKIES.get(SEEN_COOKIE, "")
    return int(raw) if raw.isdigit() else None


def _remember_seen(response, version_id: int):
    response.set_cookie(SEEN_COOKIE, str(version_id), max_age=SEEN_COOKIE_AGE, httponly=True, samesite="Lax",
                        secure=getattr(settings, "SESSION_COOKIE_SECURE", False))
    return response


def _base_template() -> str:
    return "base.html" if connection.schema_name == "public" else "portal/base.html"


def privacy_notice(request, version: str | None = None):
    """The current notice (or an earlier version), with its version and date and the history of
    changes. Reading the current one counts as having seen it."""
    current = notices.notice_current()
    if current is None:
        raise Http404("No privacy notice has been published.")
    shown = current if version is None else notices.access_notice_version(version)
    response = render(request, "compliance/privacy_notice.html", {
        "base_template": _base_template(), "notice": shown, "current": current,
        "versions": notices.notice_versions(),
    })
    if shown.pk == current.pk:
        _remember_seen(response, current.pk)
    return response


@require_POST
def privacy_notice_seen(request):
    """Dismiss the banner: remember the current version as seen, and go back where the person was."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "/"
    # A URL, never a view name: redirect() would try to reverse a bare word such as "0".
    response = HttpResponseRedirect(back)
    current = notices.notice_current()
    return _remember_seen(response, current.pk) if current is not None else response


def terms_of_use_public(request, version: str | None = None):
    """The current Terms of Use (or an earlier version), for anyone, with the history of changes."""
    current = terms_of_use.terms_current()
    if current is None:
        raise Http404("No Terms of Use have been published.")
    shown = current if version is None else terms_of_use.access_terms_version(version)
    return render(request, "compliance/terms_of_use.html", {
        "terms": shown, "current": current, "versions": terms_of_use.terms_versions(),
    })
