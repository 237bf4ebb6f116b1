from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "shared.clients"
    label = "clients"
