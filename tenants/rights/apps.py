from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "tenants.rights"
    label = "rights"
