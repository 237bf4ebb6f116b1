from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "tenants.portal"
    label = "portal"
    verbose_name = "School site"
