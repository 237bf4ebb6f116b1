from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("configuration", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="SignInPolicy",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("staff_second_factor_required", models.BooleanField(default=False)),
                ("changed_at", models.DateTimeField(auto_now=True)),
            ],
        ),
    ]
