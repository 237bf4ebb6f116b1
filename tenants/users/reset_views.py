"""The "Forgot password?" pages, one flow for both sites (each site's URLconf names them
``password_reset``, ``password_reset_sent``, ``password_reset_confirm``, ``password_reset_complete``
and gives its own base template): ask (rate limited, the same answer and the same path whatever the
address), follow the mailed link (one use, PASSWORD_RESET_LINK_TIMEOUT), set a new password with the
validation of the invitation's set-password page (Django's SetPasswordForm and AUTH_PASSWORD_VALIDATORS).
The new password signs nobody in and ends every session of the account: on the console, signing in
still needs the authenticator app's code."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse_lazy

from shared.signin import password_reset_refusal
from tenants.users.services import password_reset_done
from tenants.users.tasks import password_reset_ask
from tenants.users.tokens import reset_token_generator


class PasswordResetAskForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Email address",
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))


class ResetPages:
    base_template = "base.html"
    site_name = "Pupil Tracking"
    console = False

    def page(self, request) -> dict:
        return {"base_template": self.base_template, "site_name": self.site_name_for(request),
                "console": self.console, "valid_minutes": settings.PASSWORD_RESET_LINK_TIMEOUT // 60}

    def site_name_for(self, request) -> str:
        return self.site_name


def ask_view(pages: ResetPages):
    def password_reset(request):
        form = PasswordResetAskForm(request.POST or None)
        if request.method == "POST":
            refusal = password_reset_refusal(request, email=request.POST.get("email", ""))
            if refusal is not None:
                return render(request, "registration/password_reset_form.html",
                              {**pages.page(request), "form": PasswordResetAskForm(),
                               "retry_minutes": refusal.retry_minutes}, status=429)
            if form.is_valid():
                password_reset_ask(email=form.cleaned_data["email"])
                return redirect("password_reset_sent")
        return render(request, "registration/password_reset_form.html", {**pages.page(request), "form": form})

    return password_reset


def sent_view(pages: ResetPages):
    def password_reset_sent(request):
        return render(request, "registration/password_reset_sent.html", pages.page(request))

    return password_reset_sent


class ResetConfirmView(auth_views.PasswordResetConfirmView):
    """The mailed link: Django's confirm view on the reset token (it moves the token into the
    session and off the address bar before showing the form)."""

    pages = ResetPages()
    template_name = "registration/password_reset_confirm.html"
    token_generator = reset_token_generator
    success_url = reverse_lazy("password_reset_complete")
    post_reset_login = False
    reset_url_token = "new-password"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **self.pages.page(self.request)}

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            password_reset_done(user=form.user)
        return response


def complete_view(pages: ResetPages):
    def password_reset_complete(request):
        return render(request, "registration/password_reset_complete.html", pages.page(request))

    return password_reset_complete
