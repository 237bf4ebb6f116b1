"""Signing in to a school site: the password, then a one-time code for an account with the second
factor on; enrolment of an authenticator app (a QR code rendered here) and recovery codes.

Failures of either step count against one throttle (shared.signin) keyed on the school's schema and
the normalised username, and on the client address. Between the steps the account is not signed in:
the session only remembers who gave the right password, for a few minutes."""

from __future__ import annotations

import base64
import binascii
import datetime as dt

import qrcode
import qrcode.image.svg
import structlog
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from portal.forms import CodeForm, EnrolForm
from shared import clock
from shared.forms import service_errors_to_form
from shared.signin import signin_failure_count, signin_refusal
from tenants.configuration import selectors as signin_policy
from tenants.configuration import services as signin_policy_services
from tenants.users import reset_views
from tenants.users import selectors as users
from tenants.users import services as user_services

log = structlog.get_logger(__name__)

_PENDING = "signin_pending"
_SECRET = "second_factor_secret"
PENDING_MINUTES = 5
WRONG_CODE = "That code is wrong or has expired."


class SchoolLoginView(auth_views.LoginView):
    """The password step. An account with a second factor goes on to the code step, signed in only
    after it; an account that must have one and has none signs in and is sent to enrol."""

    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        refusal = signin_refusal(request, username=request.POST.get("username", ""))
        if refusal is not None:
            form = self.get_form_class()(request=request, initial={"username": request.POST.get("username", "")})
            return render(request, self.template_name, {"form": form, "retry_minutes": refusal.retry_minutes,
                                                        "next": request.POST.get("next", "")}, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        signin_failure_count(self.request, username=self.request.POST.get("username", ""))
        return super().form_invalid(form)

    def form_valid(self, form):
        user = form.get_user()
        if users.second_factor_device(user=user) is not None:
            self.request.session[_PENDING] = {"user_id": user.pk, "backend": user.backend,
                                              "at": clock.now().isoformat(), "next": self.get_redirect_url()}
            return redirect("login_code")
        return super().form_valid(form)  # signs in; the second-factor middleware sends to enrolment


def _pending_user(request):
    pending = request.session.get(_PENDING)
    if not pending:
        return None, None
    started = dt.datetime.fromisoformat(pending["at"])
    if clock.now() - started > dt.timedelta(minutes=PENDING_MINUTES):
        del request.session[_PENDING]
        return None, None
    user = get_user_model().objects.filter(pk=pending["user_id"], is_active=True).first()
    return user, pending


def login_code(request):
    """The code step, after the right password."""
    user, pending = _pending_user(request)
    if user is None:
        messages.error(request, "Sign in again: your sign-in was not finished in time.")
        return redirect("login")
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        refusal = signin_refusal(request, username=user.email)
        if refusal is not None:
            return render(request, "portal/login_code.html", {"form": CodeForm(), "retry_minutes": refusal.retry_minutes},
                          status=429)
        device = user_services.second_factor_verify(user=user, code=request.POST.get("code", ""))
        if device is None:
            signin_failure_count(request, username=user.email)
            form.errors.clear()
            form.add_error(None, WRONG_CODE)
        else:
            del request.session[_PENDING]
            auth_login(request, user, backend=pending["backend"])
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = users.recovery_codes_left(user=user)
                log.info("signin.recovery_code_used", user_id=user.pk, left=left)
                messages.warning(request, f"You signed in with a recovery code; {left} left. "
                                          "Make new ones on the two-step sign-in page if you are running out.")
            target = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = ""
            return redirect(target or "home")
    return render(request, "portal/login_code.html", {"form": form})


def _qr_svg(data: str) -> str:
    """The QR code of ``data`` as inline SVG markup, made here (no image service, no script)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return image.to_string(encoding="unicode")


def _secret_text(secret: str) -> str:
    """The secret as an authenticator app takes it typed in: base32, in groups of four."""
    text = base64.b32encode(binascii.unhexlify(secret)).decode()
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


@login_required
def second_factor(request):
    """Two-step sign-in for the signed-in user: enrol an authenticator app, make new recovery codes,
    or turn it off where the school does not require it."""
    user = request.user
    device = users.second_factor_device(user=user)
    required = signin_policy.second_factor_required(user=user)
    action = request.POST.get("action") if request.method == "POST" else None
    if device is None:
        form = EnrolForm(request.POST if action == "enrol" else None)
        secret = request.session.get(_SECRET) or user_services.second_factor_secret_new()
        request.session[_SECRET] = secret
        if action == "enrol" and form.is_valid():
            try:
                device, codes = user_services.second_factor_enrol(user=user, secret=secret,
                                                                  code=form.cleaned_data["code"])
            except ValidationError as error:
                service_errors_to_form(form, error)
            else:
                del request.session[_SECRET]
                otp_login(request, device)
                log.info("signin.second_factor_enrolled", user_id=user.pk)
                return render(request, "portal/recovery_codes.html", {"codes": codes})
        return render(request, "portal/second_factor.html", {
            "enrolling": True, "required": required, "form": form,
            "qr_svg": mark_safe(_qr_svg(user_services.second_factor_secret_url(user=user, secret=secret))),
            "secret_text": _secret_text(secret),
        })
    form = CodeForm(request.POST if action == "remove" else None)
    if action == "recovery":
        codes = user_services.recovery_codes_renew(user=user)
        log.info("signin.recovery_codes_renewed", user_id=user.pk)
        return render(request, "portal/recovery_codes.html", {"codes": codes})
    if action == "remove" and form.is_valid():
        try:
            signin_policy_services.second_factor_remove(user=user, code=form.cleaned_data["code"])
        except ValidationError as error:
            service_errors_to_form(form, error)
        else:
            log.info("signin.second_factor_removed", user_id=user.pk)
            messages.success(request, "Two-step sign-in is off for your account.")
            return redirect("second_factor")
    return render(request, "portal/second_factor.html", {
        "enrolling": False, "required": required, "form": form,
        "recovery_left": users.recovery_codes_left(user=user),
    })


# --- "Forgot password?" (tenants.users.reset_views, on the school's own host and branding) ---------

class SchoolResetPages(reset_views.ResetPages):
    base_template = "portal/base.html"

    def site_name_for(self, request) -> str:
        return request.tenant.name


_reset_pages = SchoolResetPages()
password_reset = reset_views.ask_view(_reset_pages)
password_reset_sent = reset_views.sent_view(_reset_pages)
password_reset_complete = reset_views.complete_view(_reset_pages)


class SchoolResetConfirmView(reset_views.ResetConfirmView):
    pages = _reset_pages
