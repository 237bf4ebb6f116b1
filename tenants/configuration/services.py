"""Saving branding and documents: checked whole before anything is written, and change-logged.

A file is written to disk only after the upload passed every check, and removed again if the
database row that names it is not saved (so a refusal leaves neither a row nor a stray file)."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.files import DOCUMENT_TYPES_TEXT, IMAGE_SIGNATURES, document_type, sniff
from tenants.configuration.models import Branding, SchoolDocument, SignInPolicy
from tenants.configuration.selectors import second_factor_required
from tenants.users.models import User
from tenants.users.services import WRONG_CODE, second_factor_verify

LOGO_MAX_BYTES = 512 * 1024
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# The accent colour is the colour of white text on buttons and of links, on the palest background
# a link stands on (the privacy-notice bar's, platform/static/css/site.css): WCAG 2.2 AA asks 4.5:1
# of text against what is behind it.
ACCENT_BACKGROUNDS = ("#ffffff", "#eef4ff")
ACCENT_CONTRAST_MIN = 4.5


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG's contrast ratio of two ``#rrggbb`` colours, 1 to 21."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def accent_contrast(colour: str) -> float:
    """The lowest contrast of an accent colour with the text and backgrounds it meets."""
    return min(contrast_ratio(colour, background) for background in ACCENT_BACKGROUNDS)


def branding_get() -> Branding:
    return Branding.objects.first() or Branding()


def branding_save(*, user, accent_colour: str, logo: UploadedFile | None = None, remove_logo: bool = False) -> Branding:
    errors = {}
    if not COLOUR.match(accent_colour or ""):
        errors["accent_colour"] = "Give the colour as # and six hexadecimal digits, for example #1d4f91."
    elif (contrast := accent_contrast(accent_colour)) < ACCENT_CONTRAST_MIN:
        errors["accent_colour"] = (
            f"This colour is too light: white text on it, and links in it, would be hard to read (contrast "
            f"{int(contrast * 10) / 10}:1, and at least {ACCENT_CONTRAST_MIN}:1 is needed). Choose a darker shade, "
            "for example #1d4f91.")
    logo_type = None
    if logo is not None:
        logo_type = sniff(logo, IMAGE_SIGNATURES)
        if logo.size > LOGO_MAX_BYTES:
            errors["logo"] = f"The logo is {logo.size // 1024} KB; the most is {LOGO_MAX_BYTES // 1024} KB."
        elif logo_type is None:
            errors["logo"] = "The logo must be a PNG, JPEG or GIF image."
    if errors:
        raise ValidationError(errors)
    branding = branding_get()
    old_logo = branding.logo.name if (logo is not None or remove_logo) else None
    fields = ["accent_colour"]
    with transaction.atomic():
        branding.accent_colour = accent_colour.lower()
        if logo is not None:
            branding.logo.save(logo.name, logo, save=False)
            branding.logo_content_type = logo_type
            fields += ["logo", "logo_content_type"]
        elif remove_logo:
            branding.logo, branding.logo_content_type = "", ""
            fields += ["logo", "logo_content_type"]
        try:
            branding.save()
            change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=branding,
                              action=Action.UPDATE, fields=fields)
        except Exception:
            if logo is not None:
                branding.logo.storage.delete(branding.logo.name)
            raise
    if old_logo:
        transaction.on_commit(lambda: Branding.logo.field.storage.delete(old_logo))
    return branding


def document_upload(*, user, title: str, upload: UploadedFile) -> SchoolDocument:
    title = (title or "").strip()
    errors = {}
    if not title:
        errors["title"] = "Give the document a title."
    elif len(title) > 200:
        errors["title"] = "The title can be at most 200 characters."
    content_type = document_type(upload)
    if upload.size > DOCUMENT_MAX_BYTES:
        errors["file"] = f"The file is {upload.size / 1048576:.1f} MB; the most is {DOCUMENT_MAX_BYTES // 1048576} MB."
    elif content_type is None:
        errors["file"] = f"Upload {DOCUMENT_TYPES_TEXT}."
    if errors:
        raise ValidationError(errors)
    document = SchoolDocument(title=title, original_name=upload.name[-255:], content_type=content_type,
                              size=upload.size, uploaded_by=user)
    document.file.save(upload.name, upload, save=False)
    try:
        with transaction.atomic():
            document.save()
            change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=document,
                              action=Action.CREATE, fields=["title", "file"])
    except Exception:
        document.file.storage.delete(document.file.name)
        raise
    return document


def document_delete(*, user, document: SchoolDocument) -> None:
    name = document.file.name
    with transaction.atomic():
        change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=document,
                          action=Action.DELETE)
        document.delete()
        transaction.on_commit(lambda: SchoolDocument.file.field.storage.delete(name))


def signin_policy_get() -> SignInPolicy:
    return SignInPolicy.objects.first() or SignInPolicy()


def signin_policy_save(*, user, staff_second_factor_required: bool) -> SignInPolicy:
    """A school admin requires (or stops requiring) a second factor of every member of staff."""
    if user.role != User.Role.SCHOOL_ADMIN:
        raise PermissionDenied("Only a school admin can change how staff sign in.")
    with transaction.atomic():
        policy = SignInPolicy.objects.select_for_update().first() or SignInPolicy()
        policy.staff_second_factor_required = staff_second_factor_required
        policy.save()
        change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=policy,
                          action=Action.UPDATE, fields=["staff_second_factor_required"])
    return policy


@transaction.atomic
def second_factor_remove(*, user: User, code: str) -> None:
    """Turn the second factor off (a current code proves it is the owner), unless the school's sign-in
    policy requires it for this account."""
    if second_factor_required(user=user):
        raise ValidationError("Your school requires two-step sign-in for your account: it cannot be turned off.")
    if second_factor_verify(user=user, code=code) is None:
        raise ValidationError({"code": WRONG_CODE})
    for device in (*TOTPDevice.objects.filter(user=user), *StaticDevice.objects.filter(user=user)):
        change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=device,
                          action=Action.DELETE)
        device.delete()
