"""Writes on users. The caller has already entered the right schema."""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from shared.technical.models import ChangeLogEntry
from shared.technical.services import Actor, change_log_record
from tenants.users.models import User


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
    change_log_record(actor=actor, instance=user, action=ChangeLogEntry.Action.CREATE, fields=["email", "full_name", "role"])
    for record in (parent_carer, pupil):
        if record is not None and role in (User.Role.PARENT, User.Role.PUPIL):
            record.user = user
            record.save(update_fields=["user"])
            change_log_record(actor=actor, instance=record, action=ChangeLogEntry.Action.UPDATE, fields=["user"])
    return user


@transaction.atomic
def user_set_active(*, admin: User, user: User, active: bool) -> User:
    if user.pk == admin.pk and not active:
        raise ValidationError("You cannot switch off your own account.")
    user.is_active = active
    user.save(update_fields=["is_active"])
    change_log_record(actor=Actor.school_user(admin, connection.schema_name), instance=user,
                      action=ChangeLogEntry.Action.UPDATE, fields=["is_active"])
    return user


@transaction.atomic
def retention_grace_set(*, user: User, months: int):
    """The school admin sets how long after leaving a pupil's records are kept."""
    from tenants.pupils.models import RetentionSettings

    if months < 0:
        raise ValidationError({"grace_months": "Give 0 or more months."})
    settings_row = RetentionSettings.objects.first() or RetentionSettings()
    settings_row.grace_months = months
    settings_row.save()
    change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=settings_row,
                      action=ChangeLogEntry.Action.UPDATE, fields=["grace_months"])
    return settings_row
