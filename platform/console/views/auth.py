"""Operator sign-in: email, password and a one-time code from the operator's authenticator app.
Failed attempts are counted per account and per IP address; past the limit, sign-in is refused
for the rest of the window without even checking the password."""

from __future__ import annotations

import structlog
from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django_otp import login as otp_login
from django_otp import match_token
from django_ratelimit.core import get_usage

from shared.operators.selectors import operator_for_user

log = structlog.get_logger(__name__)


def _failure_key(group, request) -> str:
    return f"{request.get_host()}:{request.POST.get('username', '').strip().lower()}"


def login_throttled(request, *, count_failure: bool) -> bool:
    """Whether this account or address has used up its failed sign-ins for the window; with
    ``count_failure``, count one more failure first."""
    allowed = settings.LOGIN_FAILURES_ALLOWED
    window = settings.LOGIN_FAILURE_WINDOW
    limits = [("console-login-account", _failure_key, allowed), ("console-login-ip", "ip", allowed * 10)]
    throttled = False
    for group, key, limit in limits:
        usage = get_usage(request, group=group, key=key, rate=f"{limit}/{window}", method="POST",
                          increment=count_failure)
        throttled |= usage is not None and usage["count"] >= limit
    return throttled


class OperatorAuthenticationForm(AuthenticationForm):
    otp_token = forms.CharField(label="One-time code", max_length=8, min_length=6,
                                widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
                                help_text="The 6-digit code from your authenticator app.")

    error_messages = {
        **AuthenticationForm.error_messages,
        "bad_code": "That one-time code is wrong or has expired.",
        "not_operator": "This account is not an operator account.",
    }

    def clean(self):
        super().clean()  # email and password
        user = self.get_user()
        if operator_for_user(user=user) is None:
            raise forms.ValidationError(self.error_messages["not_operator"], code="not_operator")
        self.device = match_token(user, self.cleaned_data.get("otp_token", "").strip())
        if self.device is None:
            raise forms.ValidationError(self.error_messages["bad_code"], code="bad_code")
        return self.cleaned_data


class OperatorLoginView(auth_views.LoginView):
    template_name = "console/login.html"
    authentication_form = OperatorAuthenticationForm
    redirect_authenticated_user = False

    def post(self, request, *args, **kwargs):
        if login_throttled(request, count_failure=False):
            log.warning("console.login_throttled")
            form = self.get_form_class()(request=request, initial={"username": request.POST.get("username", "")})
            return render(request, self.template_name, {
                "form": form, "throttled": True, "next": request.POST.get("next", ""),
            }, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        login_throttled(self.request, count_failure=True)
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)  # logs the user in
        otp_login(self.request, form.device)
        return response


class OperatorLogoutView(auth_views.LogoutView):
    pass
