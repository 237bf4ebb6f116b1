from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "shared.audit"
    # The label (and so the tables, technical_visit and technical_changelogentry) keeps the notice's
    # name for this data, "technical information".
    label = "technical"
    verbose_name = "Technical information (visit and change logs)"
