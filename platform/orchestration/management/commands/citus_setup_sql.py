"""Print the SQL that moves this database onto a Citus cluster (see ops/scale-out.md)."""

from django.core.management.base import BaseCommand

from orchestration.scale_out import citus_setup_sql
from shared.schools.models import School


class Command(BaseCommand):
    help = "Print the statements that distribute every school schema and make the shared tables reference tables."

    def handle(self, *args, **options):
        schemas = list(School.objects.filter(schema_dropped_at=None).values_list("schema_name", flat=True))
        for statement in citus_setup_sql(schemas):
            self.stdout.write(statement + ";")
