"""``school_branding`` for every school-site template, read only when a template uses it."""

from django.db import connection
from django.utils.functional import SimpleLazyObject


def branding(request):
    if connection.schema_name == "public":
        return {}
    from tenants.configuration.selectors import branding_for_page

    return {"school_branding": SimpleLazyObject(branding_for_page)}
