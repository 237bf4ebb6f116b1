from django.apps import AppConfig


class PupilsConfig(AppConfig):
    name = "tenants.pupils"
    label = "pupils"
