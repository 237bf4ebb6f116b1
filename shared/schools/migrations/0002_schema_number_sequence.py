from django.db import migrations


class Migration(migrations.Migration):
    """School schema names are numbered from this sequence (school_000001, ...), so they are
    stable and never derived from a subdomain."""

    dependencies = [("schools", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS public.schools_schema_number_seq START 1",
            "DROP SEQUENCE IF EXISTS public.schools_schema_number_seq",
        ),
    ]
