from django.apps import AppConfig


class ConfigurationConfig(AppConfig):
    name = "tenants.configuration"
    label = "configuration"

    def ready(self) -> None:
        """Brand each school's mail with its accent colour (shared never imports tenants)."""
        from shared.mail import branding
        from tenants.configuration.selectors import accent_colour

        branding.accent_reader = accent_colour
