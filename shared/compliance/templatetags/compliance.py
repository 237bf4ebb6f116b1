"""The privacy notice on every page: the footer's link with its version and date, and the banner
listing what changed since the browser last saw it. Both read one query's result, kept on the
request."""

from __future__ import annotations

from django import template

from shared.compliance.notices import NoticeStatus, notice_status
from shared.compliance.views import seen_version_id

register = template.Library()
BANNER_SUMMARIES = 3


def _status(context) -> NoticeStatus:
    request = context.get("request")
    if request is None:
        return notice_status(seen_id=None)
    if not hasattr(request, "_privacy_notice_status"):
        request._privacy_notice_status = notice_status(seen_id=seen_version_id(request))
    return request._privacy_notice_status


@register.inclusion_tag("compliance/_notice_footer.html", takes_context=True)
def privacy_notice_footer(context):
    return {"current": _status(context).current}


@register.inclusion_tag("compliance/_notice_banner.html", takes_context=True)
def privacy_notice_banner(context):
    status = _status(context)
    request = context.get("request")
    return {
        "current": status.current, "unseen": status.unseen[:BANNER_SUMMARIES],
        "earlier": max(0, len(status.unseen) - BANNER_SUMMARIES), "first_visit": request is not None
        and seen_version_id(request) is None, "request": request, "csrf_token": context.get("csrf_token"),
        "show": request is not None and bool(status.unseen),
    }


@register.filter
def document(text: str, top: int = 2):
    """A published notice's or terms' text as HTML: its headings, lists and tables, word for word
    (shared.compliance.document)."""
    from shared.compliance.document import document_html

    return document_html(text or "", top=int(top))
