from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "shared.compliance"
    label = "compliance"
    verbose_name = "Compliance"
