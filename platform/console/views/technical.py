"""Technical information: the change log and the visit log."""

from __future__ import annotations

from django.shortcuts import render

from console.access import console_view
from console.views import page_of
from shared.query import id_param
from shared.technical.models import ChangeLogEntry, Visit


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
    })


@console_view("technical")
def visit_log(request):
    queryset = Visit.objects.all()
    host = request.GET.get("host", "").strip().lower()
    if host:
        queryset = queryset.filter(host=host)
    return render(request, "console/visit_log.html", {"page": page_of(request, queryset, per_page=50), "host": host})
