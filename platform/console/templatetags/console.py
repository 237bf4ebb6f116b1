"""Template helpers for the console."""

from django import template
from django.utils.html import format_html

from console.access import FORM_TOKEN_FIELD, can, new_form_token

register = template.Library()


@register.simple_tag
def submit_once_token():
    """The hidden field that lets ``submit_once`` refuse a second submission of this form."""
    return format_html('<input type="hidden" name="{}" value="{}">', FORM_TOKEN_FIELD, new_form_token())


@register.filter
def may_open(operator, screen: str) -> bool:
    return can(operator, screen)


@register.filter
def money(value) -> str:
    return "—" if value is None else f"£{value:,.2f}"


@register.filter
def get_item(mapping, key):
    return mapping.get(key)
