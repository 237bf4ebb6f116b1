from django.apps import AppConfig


class MarketingConfig(AppConfig):
    name = "shared.marketing"
    label = "marketing"
