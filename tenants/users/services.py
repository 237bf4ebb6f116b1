"""Writes on users. The caller has already entered the right schema."""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex
from django_tenants.utils import get_public_schema_name

from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from tenants.users.models import User
from tenants.users.tokens import reset_token_generator, uid_encode


def user_create(*, email: str, full_name: str = "", role: str = "", password: str | None = None) -> User:
    """Create a user. With no password the account gets an unusable one and signs in only after
    setting a password through a link from ``user_set_password_token``."""
    return User.objects.create_user(email, password, full_name=full_name, role=role)


def user_set_password_token(*, user: User) -> tuple[str, str]:
    """The (uidb64, token) pair of a set-password link. The token stops working once the
    password changes or PASSWORD_RESET_TIMEOUT passes; it is never stored."""
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)


@transaction.atomic
def user_invite(*, inviter: User, email: str, full_name: str, role: str, parent_carer=None, pupil=None) -> User:
    """A school admin invites a member of staff, a parent (linked to their parent/carer record)
    or a pupil (linked to their pupil record). The new account has no password until its
    set-password link is followed."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid email address."}) from None
    if role not in User.Role.values:
        raise ValidationError({"role": "Choose a role."})
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": "Someone at this school already has an account with that email."})
    if role == User.Role.PARENT and parent_carer is None:
        raise ValidationError({"parent_carer": "Choose which parent or carer this account is for."})
    if role == User.Role.PUPIL and pupil is None:
        raise ValidationError({"pupil": "Choose which pupil this account is for."})
    for record, field in ((parent_carer, "parent_carer"), (pupil, "pupil")):
        if record is not None and record.user_id is not None:
            raise ValidationError({field: "That record already has an account."})
    user = user_create(email=email, full_name=full_name.strip(), role=role)
    actor = Actor.school_user(inviter, connection.schema_name)
    change_log_record(actor=actor, instance=user, action=Action.CREATE, fields=["email", "full_name", "role"])
    for record in (parent_carer, pupil):
        if record is not None and role in (User.Role.PARENT, User.Role.PUPIL):
            record.user = user
            record.save(update_fields=["user"])
            change_log_record(actor=actor, instance=record, action=Action.UPDATE, fields=["user"])
    return user


def user_invitation_resend(*, admin: User, user_id: int) -> User:
    """The account whose invitation ``admin`` may send again: one of this school's, switched on, that
    has not set a password yet (a new link is made when it is sent; the old one still works until the
    password is set). Refused otherwise, changing nothing."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise ValidationError("There is no such account at this school.")
    if not user.is_active:
        raise ValidationError(f"{user.email} is switched off: switch the account on first.")
    if user.has_usable_password():
        raise ValidationError(f"{user.email} has already set a password: they can use \"Forgot password?\".")
    return user


@transaction.atomic
def user_set_active(*, admin: User, user: User, active: bool) -> User:
    if user.pk == admin.pk and not active:
        raise ValidationError("You cannot switch off your own account.")
    user.is_active = active
    user.save(update_fields=["is_active"])
    change_log_record(actor=Actor.school_user(admin, connection.schema_name), instance=user,
                      action=Action.UPDATE, fields=["is_active"])
    return user


# --- Second factor: an authenticator app (TOTP) and recovery codes --------------------------------

RECOVERY_CODE_COUNT = 10
WRONG_CODE = "That code is wrong or has expired. Codes change every 30 seconds: try the one showing now."


def second_factor_secret_new() -> str:
    """A new authenticator secret (160 bits, hex), held in the session until it is confirmed."""
    return random_hex(20)


def second_factor_secret_url(*, user: User, secret: str) -> str:
    """The ``otpauth://`` link an authenticator app is set up with (what the QR code holds)."""
    return TOTPDevice(user=user, key=secret).config_url


def _recovery_codes_make(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=device,
                      action=Action.CREATE, fields=["token_set"])
    return codes


@transaction.atomic
def second_factor_enrol(*, user: User, secret: str, code: str) -> tuple[TOTPDevice, list[str]]:
    """Turn the second factor on with the authenticator app set up from ``secret``, once ``code``
    shows the app works. Returns the device and the recovery codes, which are shown once. A wrong
    code changes nothing."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ValidationError("Two-step sign-in is already on for this account.")
    device = TOTPDevice(user=user, key=secret, name="Authenticator app", confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == device.digits and totp.verify(int(code), tolerance=device.tolerance)):
        raise ValidationError({"code": WRONG_CODE})
    device.last_t = totp.t()  # the code just used cannot sign in again
    device.drift = totp.drift
    TOTPDevice.objects.filter(user=user).delete()
    device.save()
    codes = _recovery_codes_make(user)
    change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=device,
                      action=Action.CREATE, fields=["key"])
    return device, codes


def second_factor_verify(*, user: User, code: str):
    """The device that accepts ``code`` now (the authenticator app, or a recovery code, which is
    used up), or None. Each device throttles its own wrong codes."""
    code = (code or "").strip().replace(" ", "").lower()
    if not code:
        return None
    with transaction.atomic():
        for device in (*TOTPDevice.objects.filter(user=user, confirmed=True),
                       *StaticDevice.objects.filter(user=user, confirmed=True)):
            if device.verify_token(code):
                return device
    return None


@transaction.atomic
def recovery_codes_renew(*, user: User) -> list[str]:
    """New recovery codes for a user with the second factor on; the old ones stop working."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ValidationError("Turn two-step sign-in on first.")
    return _recovery_codes_make(user)


# --- Passwords: "Forgot password?" and invitations by mail ----------------------------------------


def password_reset_account(*, email: str) -> User | None:
    """The account a "Forgot password?" link for ``email`` goes to on this site: an active user with
    that address (an operator on the console's ``public`` schema), or None."""
    user = User.objects.filter(email__iexact=(email or "").strip(), is_active=True).first()
    if user is None:
        return None
    if connection.schema_name == get_public_schema_name():
        from shared.operators.selectors import operator_for_user

        if operator_for_user(user=user) is None:
            return None
    return user


def password_link_path(*, user: User, reset: bool) -> str:
    """The path of the user's set-password page on their own site: a "Forgot password?" link
    (``reset``, an hour) or an invitation's link (a week). Both work once."""
    public = connection.schema_name == get_public_schema_name()
    token = (reset_token_generator if reset else default_token_generator).make_token(user)
    name = ("console_password_reset_confirm" if public else "password_reset_confirm") if reset else "set_password"
    urlconf = "config.urls_public" if public else "config.urls_tenants"
    return reverse(name, urlconf=urlconf, kwargs={"uidb64": uid_encode(user), "token": token})


def user_sessions_end(*, user: User) -> int:
    """End every session of ``user`` in the current schema (their own site's sessions). Returns how many."""
    from django.contrib.sessions.models import Session

    ended = [session.pk for session in Session.objects.all()
             if session.get_decoded().get("_auth_user_id") == str(user.pk)]
    return Session.objects.filter(pk__in=ended).delete()[0]


@transaction.atomic
def password_reset_done(*, user: User) -> int:
    """After a new password was set from a "Forgot password?" link (or an invitation's): the change
    is logged and every session of the account ends (a thief signed in is signed out). Returns how
    many sessions ended."""
    public = connection.schema_name == get_public_schema_name()
    actor = Actor.operator(user) if public else Actor.school_user(user, connection.schema_name)
    change_log_record(actor=actor, instance=user, action=Action.UPDATE, fields=["password"])
    return user_sessions_end(user=user)


def sessions_expired_purge() -> int:
    """Delete the current schema's expired sessions (a school's, or the console's in ``public``),
    as Django's ``clearsessions`` does, by the project clock. Returns how many went."""
    from django.contrib.sessions.models import Session

    from shared import clock

    return Session.objects.filter(expire_date__lt=clock.now()).delete()[0]
