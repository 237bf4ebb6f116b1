from django.apps import AppConfig


class XporterConfig(AppConfig):
    name = "tenants.xporter"
    label = "xporter"
