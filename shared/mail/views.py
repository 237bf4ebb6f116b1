"""The pages a mail footer links to, on the vendor's host, with no sign-in: the signed link is the
only key. ``preferences``: which non-critical topics an address receives (critical ones are listed
as always sent). ``unsubscribe``: RFC 8058 one-click unsubscribe from one topic: a POST (from the
mail client, or the page's own button) turns it off; a GET only shows the button, so a link scanner
that follows the link changes nothing."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from shared.mail import selectors, services
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
