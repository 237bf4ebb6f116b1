from django.apps import AppConfig


class ConfigurationConfig(AppConfig):
    name = "tenants.configuration"
    label = "configuration"

    def ready(self) -> None:
        """Brand each school's mail with its accent colour (shared never imports tenants)."""
        from shared.mail import branding
        from tenants.configuration.selectors import accent_colour

        branding.accent_reader = accent_colour

        from django.db.models.signals import post_delete, post_save

        from tenants.configuration.models import Branding
        from tenants.configuration.selectors import BRANDING

        def branding_changed(**_):
            BRANDING.invalidate()

        post_save.connect(branding_changed, sender=Branding, weak=False, dispatch_uid="process-cache-branding-save")
        post_delete.connect(branding_changed, sender=Branding, weak=False, dispatch_uid="process-cache-branding-delete")
