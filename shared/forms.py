"""What every form on every site shares: showing a service's refusal on the form that asked."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def service_errors_to_form(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field where the form has one, above
    the form otherwise (also when the service gave a plain message rather than one per field)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
