from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "shared.schools"
    label = "schools"
    verbose_name = "Schools"
