from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "tenants.assessment"
    label = "assessment"
