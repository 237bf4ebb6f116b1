"""The account mail of a site's users: an invitation (a set-password link, good for a week) and a
"Forgot password?" link (an hour), both sent as service-critical SECURITY mail from the user's own
site (a school's host and branding for a school's user, the vendor's host for an operator). The
context holds the person's own name and the link, nothing about any pupil."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django_tenants.utils import get_public_schema_name

from shared.mail.links import absolute_url
from shared.mail.services import mail_send
from shared.mail.topics import Topic
from shared.schools.selectors import school_current
from tenants.users.models import User
from tenants.users.services import password_link_path, password_reset_account


def _school():
    return None if connection.schema_name == get_public_schema_name() else school_current()


def _site_name(school) -> str:
    return school.name if school is not None else "Pupil Tracking"


def invitation_send(*, user: User):
    """Mail ``user`` their invitation: who invites them (the school) and the link to set a password."""
    school = _school()
    return mail_send(to=user.email, template="users_invitation", topic=Topic.SECURITY, school=school, context={
        "name": user.full_name or user.email, "site_name": _site_name(school), "role": user.get_role_display(),
        "link": absolute_url(password_link_path(user=user, reset=False), school=school),
        "valid_days": settings.PASSWORD_RESET_TIMEOUT // (24 * 3600),
    })


def password_reset_send(*, email: str):
    """Mail a "Forgot password?" link to the account with ``email`` on this site, if there is one
    (else nothing: the person asking was already told the same either way)."""
    user = password_reset_account(email=email)
    if user is None:
        return None
    school = _school()
    return mail_send(to=user.email, template="users_password_reset", topic=Topic.SECURITY, school=school, context={
        "name": user.full_name or user.email, "site_name": _site_name(school),
        "link": absolute_url(password_link_path(user=user, reset=True), school=school),
        "valid_minutes": settings.PASSWORD_RESET_LINK_TIMEOUT // 60,
        "console": school is None,
    })
