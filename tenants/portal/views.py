"""School-site views: parse, authorise, call one selector or service, render."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse_lazy

from tenants.users.models import User
from tenants.users.selectors import user_list

STAFF_ROLES = {User.Role.SCHOOL_ADMIN, User.Role.TEACHER}


class SchoolLoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True


class SchoolLogoutView(auth_views.LogoutView):
    pass


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """Follows the set-password link printed at provisioning (or sent on invitation)."""

    template_name = "portal/set_password.html"
    success_url = reverse_lazy("set_password_done")


class SetPasswordDoneView(auth_views.PasswordResetCompleteView):
    template_name = "portal/set_password_done.html"


@login_required
def dashboard(request):
    if request.user.role not in STAFF_ROLES:
        raise PermissionDenied("The staff dashboard is for the school's staff.")
    return render(request, "portal/dashboard.html", {"school": request.tenant, "users": user_list()})
