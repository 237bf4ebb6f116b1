from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "shared.support"
    label = "support"
    verbose_name = "Support access"
