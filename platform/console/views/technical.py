"""Technical information: the change log, the visit log, and what the workers set aside."""

from __future__ import annotations

from django.shortcuts import render

from console.access import console_view
from console.views import page_of
from shared.audit import selectors
from shared.audit.models import ChangeLogEntry, Visit
from shared.query import id_param
from shared.schools.models import School


@console_view("technical")
def change_log(request):
    queryset = ChangeLogEntry.objects.all()
    object_type = request.GET.get("object_type", "").strip()
    actor_id = id_param(request.GET, "actor_id")
    if object_type:
        queryset = queryset.filter(object_type=object_type)
    if actor_id is not None:
        queryset = queryset.filter(actor_id=actor_id)
    return render(request, "console/change_log.html", {
        "page": page_of(request, queryset, per_page=50), "object_type": object_type, "actor_id": actor_id,
        "object_types": ChangeLogEntry.objects.order_by("object_type").values_list("object_type", flat=True).distinct(),
        "schools": dict(School.objects.values_list("schema_name", "name")),  # a schema named as its school
    })


@console_view("technical")
def visit_log(request):
    queryset = Visit.objects.all()
    host = request.GET.get("host", "").strip().lower()
    if host:
        queryset = queryset.filter(host=host)
    return render(request, "console/visit_log.html", {"page": page_of(request, queryset, per_page=50), "host": host})


@console_view("technical")
def dead_letters(request):
    return render(request, "console/dead_letters.html", {
        "summary": selectors.dead_letters_summary(),
        "jobs": selectors.dead_letter_messages(limit=100),  # not "messages": the base template's flashes
        "items": selectors.set_aside_items(limit=100),
    })
