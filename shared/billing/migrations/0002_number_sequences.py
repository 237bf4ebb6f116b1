from django.db import migrations


class Migration(migrations.Migration):
    """Invoice and credit-note numbers (INV-000001, CN-000001) come from sequences: gap-free is not
    required, unique and never reused is."""

    dependencies = [("billing", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS public.billing_invoice_number_seq;"
            "CREATE SEQUENCE IF NOT EXISTS public.billing_credit_note_number_seq;",
            "DROP SEQUENCE IF EXISTS public.billing_invoice_number_seq;"
            "DROP SEQUENCE IF EXISTS public.billing_credit_note_number_seq;",
        ),
    ]
