"""Print the SQL that moves this database onto a Citus cluster (see ops/scale-out.md)."""

from django.core.management.base import BaseCommand
from django.db import connection

from orchestration.pool import TEMPLATE_SCHEMA
from orchestration.scale_out import Sequence, citus_setup_sql
from shared.schools.models import School, SpareSchema


class Command(BaseCommand):
    help = ("Print the statements that make the shared tables reference or coordinator-local tables, restore their "
            "sequences, and distribute every school schema, spare and the template.")

    def handle(self, *args, **options):
        connection.set_schema_to_public()
        schemas = set(School.objects.filter(schema_dropped_at=None).values_list("schema_name", flat=True))
        schemas |= set(SpareSchema.objects.values_list("schema_name", flat=True))
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [TEMPLATE_SCHEMA])
            if cursor.fetchone():
                schemas.add(TEMPLATE_SCHEMA)
            cursor.execute("""
                SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
                  AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1""")
            tables = [row[0] for row in cursor.fetchall()]
            # Every sequence a public table's column owns (identity or serial).
            cursor.execute("""
                SELECT t.relname, a.attname, format('%I.%I', s.relnamespace::regnamespace::text, s.relname)
                FROM pg_depend d
                JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
                JOIN pg_class t ON t.oid = d.refobjid AND t.relnamespace = 'public'::regnamespace
                JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
                WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                  AND d.deptype IN ('a', 'i') AND NOT t.relispartition
                ORDER BY 1, 2""")
            sequences = [Sequence(table=table, column=column, sequence=sequence)
                         for table, column, sequence in cursor.fetchall()]
        for statement in citus_setup_sql(schemas=sorted(schemas), public_tables=tables, sequences=sequences):
            self.stdout.write(statement + ";")
