"""Console views: parse, authorise, call one selector or service, render."""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from shared.operators.selectors import operator_for_user
from shared.schools import pool
from shared.schools.selectors import school_list


def operator_required(view):
    """Signed in, and an operator; attaches ``request.operator``."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        request.operator = operator_for_user(user=request.user)
        if request.operator is None:
            raise PermissionDenied("The console is for the vendor's operators.")
        return view(request, *args, **kwargs)

    return wrapper


class OperatorAuthenticationForm(AuthenticationForm):
    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if operator_for_user(user=user) is None:
            raise forms.ValidationError("This account is not an operator account.", code="not_operator")


class OperatorLoginView(auth_views.LoginView):
    template_name = "console/login.html"
    authentication_form = OperatorAuthenticationForm
    redirect_authenticated_user = True


class OperatorLogoutView(auth_views.LogoutView):
    pass


def landing(request):
    return render(request, "console/landing.html")


@operator_required
def home(request):
    return render(
        request,
        "console/home.html",
        {"schools": school_list(), "spares": pool.spare_count(), "operator": request.operator},
    )
