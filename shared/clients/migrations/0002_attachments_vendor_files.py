# Attachments move from the working directory (the default storage's root) to VENDOR_FILES_ROOT,
# under random names in one folder per client.

import os
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.db import migrations, models

import shared.clients.models


def move_files(apps, schema_editor):
    attachment_model = apps.get_model("clients", "CorrespondenceAttachment")
    old_root = Path(settings.MEDIA_ROOT or os.getcwd())
    new_root = Path(settings.VENDOR_FILES_ROOT)
    for attachment in attachment_model.objects.select_related("correspondence").iterator():
        old = old_root / attachment.file.name
        if not attachment.file.name or not old.is_file():
            continue
        name = f"correspondence/{attachment.correspondence.school_id}/{uuid.uuid4().hex}{old.suffix.lower()[:10]}"
        (new_root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(old, new_root / name)
        attachment.file.name = name
        attachment.save(update_fields=["file"])


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='correspondenceattachment',
            name='content_type',
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AlterField(
            model_name='correspondenceattachment',
            name='file',
            field=models.FileField(storage=shared.clients.models.VendorFileStorage(), upload_to=shared.clients.models.attachment_upload_to),
        ),
        migrations.RunPython(move_files, migrations.RunPython.noop),
    ]
