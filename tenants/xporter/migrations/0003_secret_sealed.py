"""The school's Xporter secret is kept sealed (Fernet, keys from XPORTER_SECRET_KEYS) instead of
in plain text; each stored secret is sealed, then the plain column is dropped. The connection
gains when and why it last failed.

Written with RunPython over the historical model: a school schema made from the recorded
statements starts with no connection, so the recipe needs nothing but the columns; schemas that
hold one seal it as they migrate. There is no way back: the plain text is gone.
"""

from django.db import migrations, models


def seal_existing(apps, schema_editor):
    from tenants.xporter import secret_box

    XporterConnection = apps.get_model("xporter", "XporterConnection")
    for connection in XporterConnection.objects.exclude(password=""):
        XporterConnection.objects.filter(pk=connection.pk).update(secret_sealed=secret_box.seal(connection.password),
                                                                 password="")


class Migration(migrations.Migration):

    dependencies = [
        ("xporter", "0002_cursors_per_changeset"),
    ]

    operations = [
        migrations.AddField(
            model_name="xporterconnection",
            name="secret_sealed",
            field=models.TextField(blank=True, default="", editable=False,
                                   help_text="The school's secret, sealed with XPORTER_SECRET_KEYS; never shown."),
            preserve_default=False,
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
        migrations.RemoveField(model_name="xporterconnection", name="password"),
        migrations.AddField(
            model_name="xporterconnection",
            name="last_failure_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="xporterconnection",
            name="last_failure_reason",
            field=models.TextField(blank=True),
        ),
    ]
