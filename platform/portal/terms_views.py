"""The school's side of the Terms of Use: the current terms, where the school stands, and the
school admin's acceptance (``shared.compliance.terms_of_use``). Until the school has accepted the
current version, its admins are sent here from every staff page (``portal.middleware``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from portal.access import STAFF, role_required
from shared.client_address import client_ip
from shared.compliance import terms_of_use
from shared.query import id_param
from tenants.users.models import User


@role_required(*STAFF)
def terms_of_use_page(request):
    """The current terms, with what changed since the version the school last accepted, and (for
    a school admin, while the school has not accepted it) the form that accepts them."""
    status = terms_of_use.terms_status(school_id=request.tenant.pk)
    is_admin = request.user.role == User.Role.SCHOOL_ADMIN
    errors: list[str] = []
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied("Only a school admin accepts the terms for the school.")
        name = request.POST.get("name", "")
        try:
            acceptance = terms_of_use.terms_accept(
                user=request.user, school=request.tenant, version_id=id_param(request.POST, "version", default=0),
                name=name, ip_address=client_ip(request))
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(request, f"Thank you: {request.tenant.name} accepted version {acceptance.terms.version} "
                                      f"of the Terms of Use.")
            return redirect("home")
    unseen = []
    if status.due and status.latest is not None:
        unseen = [v for v in terms_of_use.terms_versions()
                  if (v.published_on, v.pk) > (status.latest.terms.published_on, status.latest.terms_id)]
    return render(request, "portal/terms_of_use.html", {
        "status": status, "is_admin": is_admin, "unseen": unseen, "errors": errors,
        "name": request.POST.get("name", "") if errors else request.user.get_full_name(),
    }, status=400 if errors else 200)
