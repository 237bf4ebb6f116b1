"""Retention: the calendar of what falls due, legal holds, deletion records and certificates of
destruction."""

from __future__ import annotations

from django import forms
from django.shortcuts import get_object_or_404, redirect, render

from console.access import console_view
from console.views import page_of, saved
from orchestration.retention.run import retention_calendar
from shared import clock
from shared.clients.models import Contact
from shared.compliance.models import CATEGORY_LABELS
from shared.dates import PlannedDateField
from shared.marketing.models import Prospect
from shared.privacy import holds as services
from shared.privacy.models import DeletionRecord, LegalHold
from shared.privacy.retention.registry import Category
from shared.schools.models import School

CALENDAR_DAYS = 90


def hold_people() -> dict[str, str]:
    """Whom a hold can keep, by the key retention knows them by ("contact:3"), each named as people
    read it: a client's contacts and the prospects."""
    contacts = Contact.objects.select_related("school").order_by("school__name", "full_name", "pk")
    prospects = Prospect.objects.order_by("full_name", "pk")
    return {**{f"contact:{c.pk}": f"{c.full_name} (contact at {c.school.name})" for c in contacts},
            **{f"prospect:{p.pk}": f"{p.full_name} (prospect, {p.organisation})" for p in prospects}}


class HoldForm(forms.Form):
    reason = forms.CharField(max_length=300)
    owner = forms.CharField(max_length=200, help_text="Who will lift it")
    starts_on = PlannedDateField(initial=clock.today)
    ends_on = PlannedDateField(required=False, help_text="Blank: until lifted")
    school = forms.ModelChoiceField(queryset=School.objects.all(), required=False, label="Client")
    person = forms.ChoiceField(required=False, help_text="A client's contact or a prospect whose records it keeps")
    category = forms.ChoiceField(choices=[("", "Any category"), *((c.value, CATEGORY_LABELS[c]) for c in Category)],
                                 required=False, label="Category of records")

    def __init__(self, *args, people: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", "Nobody in particular"), *people.items()]


@console_view("retention")
def retention_overview(request):
    today = clock.today()
    calendar = retention_calendar(as_of=today, days=CALENDAR_DAYS)
    people = hold_people()
    form = HoldForm(request.POST or None, people=people)
    if saved(request, form, lambda data: services.legal_hold_place(actor=request.actor, **data), "Hold placed."):
        return redirect("retention")
    return render(request, "console/retention.html", {
        "calendar": calendar.due,
        "days": CALENDAR_DAYS, "holds": LegalHold.objects.select_related("school").order_by("-starts_on"),
        "deletions": page_of(request, DeletionRecord.objects.all(), per_page=50), "form": form, "today": today,
        "schools": {s.pk: s for s in School.objects.all()},
        "unplannable": calendar.unplannable, "people": people, "categories": CATEGORY_LABELS,
    })


@console_view("retention")
def legal_hold_lift(request, hold_id: int):
    hold = get_object_or_404(LegalHold, pk=hold_id)
    if request.method == "POST":
        services.legal_hold_lift(actor=request.actor, hold=hold)
    return redirect("retention")


@console_view("retention")
def destruction_certificate(request, school_id: int):
    school = get_object_or_404(School, pk=school_id, schema_dropped_at__isnull=False)
    return render(request, "console/destruction_certificate.html", {
        "school": school, "deletions": DeletionRecord.objects.filter(school_id=school.pk).order_by("executed_at"),
        "today": clock.today(),
    })


@console_view("school_export")
def school_data_export(request, school_id: int):
    """Hand a cancelled school its data back: a zip of CSV files, one per table."""
    from django.http import HttpResponse

    from orchestration.school_export import school_export

    school = get_object_or_404(School, pk=school_id, status=School.Status.CANCELLED, schema_dropped_at__isnull=True)
    data = school_export(actor=request.actor, school=school)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="school-{school.pk}-data-{clock.today().isoformat()}.zip"'
    return response
