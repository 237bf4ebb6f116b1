"""Console views, one module per area. Each parses, authorises (``console_view``), calls one
service or selector, and renders. The two helpers below are the shape every list and form shares."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator

from shared.forms import service_errors_to_form

PAGE_SIZE = 25


def page_of(request, queryset, per_page: int = PAGE_SIZE):
    """The page of ``queryset`` that ``?page=`` asks for (the last one when it is past the end)."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def saved(request, form, save: Callable[[dict], object], success: str | Callable[[object], str]):
    """For a posted, valid form, run ``save(cleaned_data)`` (one service call) and flash
    ``success``. Returns what the service returned; None when nothing was posted, the form is
    invalid or the service refused (its errors are then shown on the form)."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = save(form.cleaned_data)
    except ValidationError as error:
        service_errors_to_form(form, error)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return result
