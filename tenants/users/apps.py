from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "tenants.users"
    label = "users"
    verbose_name = "Users"
