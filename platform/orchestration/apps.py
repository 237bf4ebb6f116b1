from django.apps import AppConfig


class OrchestrationConfig(AppConfig):
    name = "orchestration"
    label = "orchestration"
    verbose_name = "Work across the public and school schemas"

    def ready(self) -> None:
        """Declare what the retention deleters and the daily purges remove, for the deletion-path
        check (privacy.E005)."""
        from orchestration.retention.delete import DELETERS, DELETION_PATHS
        from shared.privacy.retention.paths import deletion_path

        for kind, labels in DELETION_PATHS.items():
            if kind in DELETERS:
                for label in labels:
                    deletion_path(label, f"retention unit {kind}")
        daily = "purged daily when expired (orchestration.tasks.expired_sign_ins_and_exports_daily)"
        deletion_path("sessions.Session", daily)
        deletion_path("rights.ExportLink", f"its file {daily}")
        deletion_path("privacy.VendorExportLink", f"its content {daily}")
