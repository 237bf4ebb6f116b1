from django.apps import AppConfig


class TechnicalConfig(AppConfig):
    name = "shared.technical"
    label = "technical"
