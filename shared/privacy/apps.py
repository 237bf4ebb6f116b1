from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "shared.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        from shared.privacy.retention import checks, paths  # noqa: F401  (register the system checks)
