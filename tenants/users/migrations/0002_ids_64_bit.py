"""Every id 64-bit, in public and in each school schema: Django's own apps (auth, contenttypes,
admin) keep 32-bit ids, which would be the first to run out on a sharded fleet (ops/scale-out.md).
Widened in place; the application is unchanged. tests/ops/test_scale_out.py keeps it so."""

from django.db import migrations

NARROW_IDS = """
    SELECT c.table_name, c.column_name FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.data_type = 'integer'
      AND (c.column_name = 'id' OR c.column_name LIKE '%\\_id')
    ORDER BY 1, 2"""


def widen(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(NARROW_IDS)
        by_table: dict[str, list[str]] = {}
        for table, column in cursor.fetchall():
            by_table.setdefault(table, []).append(column)
        for table, columns in by_table.items():
            changes = ", ".join(f'ALTER COLUMN "{column}" TYPE bigint' for column in columns)
            cursor.execute(f'ALTER TABLE "{table}" {changes}')


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("otp_totp", "0003_add_timestamps"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(widen, migrations.RunPython.noop)]
