from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "shared.audit"
    # The label (and so the tables, technical_visit and technical_changelogentry) keeps the notice's
    # name for this data, "technical information".
    label = "technical"
    verbose_name = "Technical information (visit and change logs)"

    def ready(self):
        from shared import automation
        from shared.audit import checks  # noqa: F401  (registers the automated-processing check)
        from shared.audit.services import automated_run_record

        # The registry of automated processes (a core module) records its last runs here.
        automation.recorder = automated_run_record
