from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "shared.billing"
    label = "billing"
