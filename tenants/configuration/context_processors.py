"""``school_branding`` for every school-site template, read only when a template uses it."""

from django.db import connection
from django.utils.functional import SimpleLazyObject


def branding(request):
    if connection.schema_name == "public":
        return {}
    from tenants.configuration.services import branding_get

    return {"school_branding": SimpleLazyObject(branding_get)}
