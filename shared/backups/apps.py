from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "shared.backups"
    label = "backups"
    verbose_name = "Backups"
