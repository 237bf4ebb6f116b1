from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "shared.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        from shared.privacy.retention import checks  # noqa: F401  (registers the system check)
