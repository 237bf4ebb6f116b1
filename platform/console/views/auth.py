"""Operator sign-in: email, password and a one-time code from the operator's authenticator app.
Failed attempts are counted per account and per client address (shared.signin); past the limit,
sign-in is refused for the rest of the window without even checking the password. Every failure
gets the same message and status, so the form tells nobody which of the three was wrong."""

from __future__ import annotations

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django_otp import login as otp_login
from django_otp import match_token

from shared.operators.selectors import operator_for_user
from shared.signin import signin_failure_count, signin_refusal
from tenants.users import reset_views

SIGN_IN_FAILED = "Email, password or code is wrong."


class OperatorAuthenticationForm(AuthenticationForm):
    otp_token = forms.CharField(label="One-time code", max_length=8, min_length=6,
                                widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
                                help_text="The 6-digit code from your authenticator app.")

    error_messages = {**AuthenticationForm.error_messages, "invalid_login": SIGN_IN_FAILED}

    def clean(self):
        try:
            super().clean()  # email and password
        except forms.ValidationError:
            raise forms.ValidationError(SIGN_IN_FAILED, code="invalid_login") from None
        user = self.get_user()
        if user is None or operator_for_user(user=user) is None:
            raise forms.ValidationError(SIGN_IN_FAILED, code="invalid_login")
        self.device = match_token(user, self.cleaned_data.get("otp_token", "").strip())
        if self.device is None:
            raise forms.ValidationError(SIGN_IN_FAILED, code="invalid_login")
        return self.cleaned_data


class OperatorLoginView(auth_views.LoginView):
    template_name = "console/login.html"
    authentication_form = OperatorAuthenticationForm
    redirect_authenticated_user = False

    def post(self, request, *args, **kwargs):
        refusal = signin_refusal(request, username=request.POST.get("username", ""))
        if refusal is not None:
            form = self.get_form_class()(request=request, initial={"username": request.POST.get("username", "")})
            return render(request, self.template_name, {
                "form": form, "retry_minutes": refusal.retry_minutes, "next": request.POST.get("next", ""),
            }, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        signin_failure_count(self.request, username=self.request.POST.get("username", ""))
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)  # logs the user in
        otp_login(self.request, form.device)
        return response


class OperatorLogoutView(auth_views.LogoutView):
    pass


# --- "Forgot password?" (tenants.users.reset_views): the link goes to operators only, on this host.
# A new password still needs the authenticator app's code at sign-in (OperatorAuthenticationForm).

class ConsoleResetPages(reset_views.ResetPages):
    base_template = "console/base.html"
    site_name = "Pupil Tracking"
    console = True


_reset_pages = ConsoleResetPages()
password_reset = reset_views.ask_view(_reset_pages)
password_reset_sent = reset_views.sent_view(_reset_pages)
password_reset_complete = reset_views.complete_view(_reset_pages)


class ConsoleResetConfirmView(reset_views.ResetConfirmView):
    pages = _reset_pages
