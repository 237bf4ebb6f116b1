from django.apps import AppConfig


class OrchestrationConfig(AppConfig):
    name = "orchestration"
    label = "orchestration"
    verbose_name = "Work across the public and school schemas"
