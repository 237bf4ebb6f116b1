"""The pages a mail footer links to, on the vendor's host, with no sign-in: the signed link is the
only key. ``preferences``: which non-critical topics an address receives (critical ones are listed
as always sent). ``unsubscribe``: RFC 8058 one-click unsubscribe from one topic: a POST (from the
mail client, or the page's own button) turns it off; a GET only shows the button, so a link scanner
that follows the link changes nothing. The development mailbox (``mailbox_*``): development only."""

from __future__ import annotations

from csp.decorators import csp_replace
from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from shared.mail import mailbox, selectors, services
from shared.mail.tokens import preferences_address, preferences_token, unsubscribe_claim
from shared.mail.topics import Topic, critical_topics, optional_topics
from shared.submit_once import submit_once_exempt


def _bad_link(request):
    return render(request, "mail/bad_link.html", status=404)


def _masked(address: str) -> str:
    """``j•••@example.org``: enough for the person to recognise, not to read off a shared screen."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


@require_http_methods(["GET", "POST"])
def preferences(request, token: str):
    address = preferences_address(token)
    if address is None:
        return _bad_link(request)
    if request.method == "POST":
        chosen = set(request.POST.getlist("topic"))
        receives = {topic for topic in optional_topics() if topic.value in chosen}
        services.preferences_set(address=address, receives=receives)
        return HttpResponseRedirect(f"{request.path}?saved=1")
    saved = request.GET.get("saved") == "1"
    turned_off = selectors.unsubscribed_topics(address)
    return render(request, "mail/preferences.html", {
        "address": _masked(address), "saved": saved,
        "optional": [(topic, topic not in turned_off) for topic in optional_topics()],
        "critical": critical_topics(),
    })


# RFC 8058: the mail client POSTs with no page, cookie or form token; the signed link is the key,
# and a second POST only turns off what is already off.
@csrf_exempt
@submit_once_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    claim = unsubscribe_claim(token)
    if claim is None:
        return _bad_link(request)
    address, topic = claim
    done = False
    if request.method == "POST":
        services.topic_unsubscribe(address=address, topic=Topic(topic))
        done = True
    return render(request, "mail/unsubscribe.html", {
        "address": _masked(address), "topic": topic, "done": done,
        "preferences_path": f"/mail/preferences/{preferences_token(address)}/",
    })


# --- The development mailbox ---------------------------------------------------------------------


def _mailbox_or_404():
    if settings.PRODUCTION or not settings.MAIL_MAILBOX_DIR:
        raise Http404("There is no development mailbox here.")


def mailbox_list(request):
    """Every message the embedded mail server kept, newest first (development only)."""
    _mailbox_or_404()
    return render(request, "mail/mailbox.html", {"messages_kept": mailbox.messages_kept(),
                                                 "folder": mailbox.folder()})


def mailbox_message(request, message_id: str):
    """One kept message: its headers, its text (escaped) and its HTML in a sandboxed frame."""
    _mailbox_or_404()
    kept = mailbox.message_kept(message_id)
    if kept is None:
        raise Http404("No such message in the mailbox.")
    return render(request, "mail/mailbox_message.html", {"kept": kept})


@xframe_options_sameorigin
@csp_replace({"default-src": ["'none'"], "style-src": ["'unsafe-inline'"], "frame-ancestors": ["'self'"],
              "script-src": ["'none'"], "img-src": ["'none'"], "form-action": ["'none'"]})
def mailbox_message_html(request, message_id: str):
    """A kept message's HTML part, for the sandboxed frame of its page: nothing it holds can run,
    load or submit (sandbox, and a policy of its own allowing only its inline styles)."""
    _mailbox_or_404()
    kept = mailbox.message_kept(message_id)
    if kept is None:
        raise Http404("No such message in the mailbox.")
    response = HttpResponse(kept.html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
