"""The school's side of support access: its admin approves, refuses or revokes the vendor's
requests to open the school's data, and reads the log of every attempt the vendor's operators
made (allowed or refused)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils import timezone

from portal.access import role_required
from portal.forms import RefuseForm
from shared.query import id_param
from shared.support import selectors, services
from tenants.pupils.models import Pupil
from tenants.users.models import User

LOG_PER_PAGE = 50
PAGE_NAMES = {"support_pupil_list": "Pupil list", "support_pupil_detail": "Pupil page"}


@role_required(User.Role.SCHOOL_ADMIN)
def support_access(request):
    """Pending requests to approve or refuse, current grants to revoke, earlier requests, and the
    access log of this school."""
    school = request.tenant
    if request.method == "POST":
        return _decide(request, school)
    pending = list(selectors.support_requests_pending(school=school))
    current = list(selectors.support_grants_current(school=school))
    earlier = list(selectors.support_requests_decided(school=school)[:20])
    log = Paginator(selectors.support_log_of_school(school=school), LOG_PER_PAGE).get_page(request.GET.get("page"))
    names = selectors.operator_names([r.operator_id for r in [*pending, *current, *earlier, *log]])
    for row in [*pending, *current, *earlier, *log]:
        row.operator_name = names.get(row.operator_id, f"operator {row.operator_id}")
    _describe_pages(log)
    return render(request, "portal/support_access.html", {
        "pending": pending, "current": current, "earlier": earlier, "log": log, "refuse_form": RefuseForm(),
    })


def _decide(request, school):
    access_request = selectors.access_support_request(school=school, request_id=id_param(request.POST, "request", default=0))
    action = request.POST.get("action")
    try:
        if action == "approve":
            done = services.support_request_approve(user=request.user, access_request=access_request)
            access = "read and change" if done.write_allowed else "read"
            messages.success(request, f"Approved: for ticket {done.ticket_reference} the operator may {access} the "
                                      f"school's data until {timezone.localtime(done.expires_at):%d %B %Y %H:%M}.")
        elif action == "refuse":
            form = RefuseForm(request.POST)
            reason = form.cleaned_data["refusal_reason"] if form.is_valid() else request.POST.get("refusal_reason", "")
            services.support_request_refuse(user=request.user, access_request=access_request, reason=reason)
            messages.success(request, f"Refused: {access_request.ticket_reference}.")
        elif action == "revoke":
            services.support_grant_revoke(user=request.user, access_request=access_request)
            messages.success(request, f"Revoked: {access_request.ticket_reference} can no longer open the school's data.")
        else:
            messages.error(request, "Choose approve, refuse or revoke.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("support_access")


def _describe_pages(log) -> None:
    """Name each logged console page for the school: the pupil list, or which pupil (the school's
    own pupil names, read in its own schema)."""
    pupil_ids = {}
    for entry in log:
        try:
            match = resolve(entry.path, urlconf=settings.PUBLIC_SCHEMA_URLCONF)
        except Resolver404:
            match = None
        entry.page_name = PAGE_NAMES.get(match.url_name, "Other page") if match else "Other page"
        if match and "pupil_id" in match.kwargs:
            pupil_ids[entry.pk] = match.kwargs["pupil_id"]
    names = {p.pk: str(p) for p in Pupil.objects.filter(pk__in=set(pupil_ids.values())).only("id", "forename", "surname")}
    for entry in log:
        if entry.pk in pupil_ids:
            entry.page_name = f"Pupil page: {names.get(pupil_ids[entry.pk], 'no longer on record')}"
