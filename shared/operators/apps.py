from django.apps import AppConfig


class OperatorsConfig(AppConfig):
    name = "shared.operators"
    label = "operators"
    verbose_name = "Operators"
