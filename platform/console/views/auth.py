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
from django_ratelimit.core import is_ratelimited

from shared.operators.selectors import operator_for_user

log = structlog.get_logger(__name__)


def _failure_key(group, request) -> str:
    return f"{request.get_host()}:{request.POST.get('username', '').strip().lower()}"


def login_throttled(request, *, count_failure: bool) -> bool:
    """Whether this sign-in is over the limit; with ``count_failure``, count one more failure."""
    per_account = is_ratelimited(request, group="console-login-account", key=_failure_key,
                                 rate=f"{settings.LOGIN_FAILURES_ALLOWED}/{settings.LOGIN_FAILURE_WINDOW}",
                                 method="POST", increment=count_failure)
    per_ip = is_ratelimited(request, group="console-login-ip", key="ip",
                            rate=f"{settings.LOGIN_FAILURES_ALLOWED * 10}/{settings.LOGIN_FAILURE_WINDOW}",
                            method="POST", increment=count_failure)
    return per_account or per_ip


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
