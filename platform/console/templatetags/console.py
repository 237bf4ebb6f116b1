"""Template helpers for the console."""

from django import template

from console.access import can

register = template.Library()


@register.filter
def may_open(operator, screen: str) -> bool:
    return can(operator, screen)


@register.filter
def money(value) -> str:
    return "—" if value is None else f"£{value:,.2f}"


@register.filter
def get_item(mapping, key):
    return mapping.get(key)
