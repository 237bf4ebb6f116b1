"""Template helpers for the console."""

from django import template
from django.apps import apps

from console.access import can

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
