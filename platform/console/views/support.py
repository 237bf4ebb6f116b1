"""Support access: an operator asks a school for access to its data, follows their requests, and
reads the school's data while the school's grant runs.

Every view here that shows a school's data calls ``support_grant_require`` before reading
anything, and reads through the selectors that take the grant it returns. Each of those pages is
logged, allowed or refused, where the school's admin can see it. Read-only: nothing here writes
to a school's schema."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from console.access import can, console_view
from console.views import page_of, saved
from orchestration import notify
from orchestration import support as school_reads
from shared.clients.selectors import access_school
from shared.support import selectors, services
from shared.support.models import MAX_HOURS, MIN_HOURS

PUPILS_PER_PAGE = 50


class SupportRequestForm(forms.Form):
    ticket_reference = forms.CharField(max_length=60, label="Support ticket")
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="The school's admin reads this before deciding.")
    duration_hours = forms.IntegerField(min_value=MIN_HOURS, max_value=MAX_HOURS, initial=4, label="Hours needed",
                                        help_text=f"{MIN_HOURS} to {MAX_HOURS}, counted from the school's approval.")
    write_allowed = forms.BooleanField(required=False, label="Ask to change data too (otherwise read-only)")


def support_panel(request, school) -> dict:
    """The client page's support-access card: the request form and the operator's own requests
    to this school (for the roles that may ask; nothing for the others)."""
    if not can(request.operator, "support_access"):
        return {}
    return {"support_form": SupportRequestForm(auto_id="support_%s"),
            "support_requests": selectors.support_requests_of_operator(operator=request.operator, school=school)[:10]}


@console_view("support_access")
def support_request_list(request):
    """The signed-in operator's own requests, with their states."""
    return render(request, "console/support_requests.html", {
        "page": page_of(request, selectors.support_requests_of_operator(operator=request.operator)),
    })


@console_view("support_access")
def support_request_new(request, school_id: int):
    school = access_school(school_id)
    form = SupportRequestForm(request.POST or None)
    if saved(request, form, lambda data: notify.support_request_make(operator=request.operator, school=school, **data),
             f"Request sent: {school.name}'s admins are told by email. They approve or refuse it on the school's site; "
             "access starts when they approve."):
        return redirect("client_detail", school_id=school.pk)
    return render(request, "console/form_page.html", {
        "school": school, "form": form, "title": f"Request support access to {school.name}",
        "submit_label": "Send request",
    })


@console_view("support_access")
def support_pupil_list(request, school_id: int):
    school = access_school(school_id)
    grant = services.support_grant_require(operator=request.operator, school=school, path=request.path)
    search = request.GET.get("q", "").strip()[:100]
    pupils = school_reads.support_pupil_list(grant=grant, search=search)
    return render(request, "console/support_pupil_list.html", {
        "school": school, "grant": grant, "q": search,
        "page": Paginator(pupils, PUPILS_PER_PAGE).get_page(request.GET.get("page")),
    })


@console_view("support_access")
def support_pupil_detail(request, school_id: int, pupil_id: int):
    school = access_school(school_id)
    grant = services.support_grant_require(operator=request.operator, school=school, path=request.path)
    page = school_reads.support_pupil_detail(grant=grant, pupil_id=pupil_id)
    return render(request, "console/support_pupil_detail.html", {
        "school": school, "grant": grant, "pupil": page.pupil, "progress": page.progress, "groups": page.groups,
    })
