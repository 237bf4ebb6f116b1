"""Template helpers for the console."""

from django import template
from django.apps import apps

from console.access import can
from orchestration.retention.labels import unit_kind_label

register = template.Library()


@register.filter
def may_open(operator, screen: str) -> bool:
    return can(operator, screen)


@register.filter
def money(value) -> str:
    return "—" if value is None else f"£{value:,.2f}"


@register.filter
def records_label(model_label: str) -> str:
    """A registered model's label ("clients.Complaint") as people read it ("Complaints")."""
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        return model_label
    return str(model._meta.verbose_name_plural).capitalize()


@register.filter
def get_item(mapping, key):
    return mapping.get(key)


@register.filter
def record_label(model_label: str) -> str:
    """A registered model's label ("pupils.Pupil") as one record is called ("Pupil")."""
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        return model_label
    return str(model._meta.verbose_name).capitalize()


UNIT_NOUNS = {"school": "School", "request": "Request", "pupil": "Pupil", "subject_request": "Request",
              "invoice": "Invoice", "contact": "Contact", "prospect": "Prospect", "legal_hold": "Hold",
              "notice_version": "Version", "terms_version": "Version", "recipient_holding": "Record",
              "breach": "Breach", "disclosure": "Disclosure", "recipient": "Recipient", "erasure_ledger": "Ledger of school",
              "mail_preference": "Preference", "change_log": "Changes of", "support_log": "Support log of",
              "mail_log": "Mail log of", "visits-before": "Visits before"}


@register.filter
def unit_kind(kind: str) -> str:
    """A retention unit's kind ("client_records") as people read it."""
    return unit_kind_label(kind)


@register.filter
def unit_name(key: str) -> str:
    """A retention unit's key as people read it: "prospect:12" is "Prospect 12", "school:3:pupil:7"
    "Pupil 7", "change_log:2026-11-30" "Changes of 30 Nov 2026" (the record's own number, which its
    screen shows; the client is in a column of its own)."""
    import datetime as dt

    parts = key.split(":")
    word, value = (parts[-2], parts[-1]) if len(parts) >= 2 else ("", key)
    noun = UNIT_NOUNS.get(word, word.replace("_", " ").capitalize())
    try:
        value = f"{dt.date.fromisoformat(value):%-d %b %Y}"
    except ValueError:
        pass
    return f"{noun} {value}".strip()


@register.filter
def registry_fields(line: str) -> str:
    """A registry line ("assessment.Result: grade, pupil") with its model named as people read it
    ("Results: grade, pupil"); the field names stay as the registry spells them."""
    model_label, sep, fields = line.partition(": ")
    return f"{records_label(model_label)}{sep}{fields}"
