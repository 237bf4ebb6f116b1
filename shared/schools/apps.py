from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "shared.schools"
    label = "schools"
    verbose_name = "Schools"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from shared.schools.models import ROUTING, Domain, School

        def routing_changed(**_):
            ROUTING.invalidate()

        for model in (School, Domain):
            post_save.connect(routing_changed, sender=model, dispatch_uid=f"routing-{model.__name__}-save", weak=False)
            post_delete.connect(routing_changed, sender=model, dispatch_uid=f"routing-{model.__name__}-delete",
                                weak=False)
