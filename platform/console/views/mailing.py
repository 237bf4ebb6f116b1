"""Mailing lists: the only way out of the console for an optional communication to client contacts
or direct marketing to prospects. Each list is built at the moment it is downloaded by the one
selector that decides who may receive it (``contacts_for_optional_mail``, ``prospects_for_marketing``),
so a consent withdrawn a second earlier is not on it, and nobody who never consented ever is."""

from __future__ import annotations

import io

import structlog
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from console.access import console_view
from shared import clock
from shared.clients.models import OptionalMail
from shared.clients.selectors import contacts_for_optional_mail
from shared.csvfiles import csv_writer
from shared.marketing.models import MarketingPurpose
from shared.marketing.selectors import prospects_for_marketing

log = structlog.get_logger(__name__)
HEADER = ("name", "email", "organisation", "role", "consented_at")


def _lists(as_of):
    return ([("contacts", purpose, f"Client contacts: {label}", contacts_for_optional_mail(purpose=purpose, as_of=as_of))
             for purpose, label in OptionalMail.choices]
            + [("prospects", purpose, f"Prospects: {label}", prospects_for_marketing(purpose=purpose, as_of=as_of))
               for purpose, label in MarketingPurpose.choices])


@console_view("mailing_lists")
def mailing_lists(request):
    now = clock.now()
    return render(request, "console/mailing_lists.html", {
        "lists": [(audience, purpose, label, people.count()) for audience, purpose, label, people in _lists(now)],
        "as_of": now,
    })


@console_view("mailing_lists")
def mailing_list_csv(request, audience: str, purpose: str):
    """One list as CSV, as of this moment: name, email, organisation, role and when they consented."""
    now = clock.now()
    if audience == "contacts" and purpose in OptionalMail.values:
        people = contacts_for_optional_mail(purpose=purpose, as_of=now).prefetch_related("consents")
        rows = [(p.full_name, p.email, p.school.name, p.role, _consented(p.consents.all(), purpose)) for p in people]
    elif audience == "prospects" and purpose in MarketingPurpose.values:
        people = prospects_for_marketing(purpose=purpose, as_of=now).prefetch_related("consents")
        rows = [(p.full_name, p.email, p.organisation, p.role, _consented(p.consents.all(), purpose)) for p in people]
    else:
        raise Http404("No such mailing list.")
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    log.info("mailing.list_exported", audience=audience, purpose=purpose, people=len(rows),
             operator_id=request.operator.pk)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{audience}-{purpose}-{now:%Y%m%d-%H%M%S}.csv"'
    return response


def _consented(consents, purpose: str) -> str:
    current = [c for c in consents if c.purpose == purpose and c.withdrawn_at is None]
    return timezone.localtime(current[0].given_at).isoformat(timespec="seconds") if current else ""
