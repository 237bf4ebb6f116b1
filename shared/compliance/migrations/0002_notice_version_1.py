"""Version 1 of the privacy notice, the text in ``shared/compliance/notice/privacy-notice-v1.txt``.

Dated 1 November 2026: the notice the retention schedule was built from
(``shared.privacy.retention.rules.POLICY_VERSION`` is "2026-11")."""

import datetime as dt
from pathlib import Path

from django.db import migrations

NOTICE_FILE = Path(__file__).resolve().parents[1] / "notice" / "privacy-notice-v1.txt"
VERSION = "1"
PUBLISHED_ON = dt.date(2026, 11, 1)
SUMMARY = ("The notice as first published here: what we hold as controller and as processor, why and on which "
           "lawful basis, when we share it, how we protect it, how long we keep it, and your rights.")


def publish(apps, schema_editor):
    NoticeVersion = apps.get_model("compliance", "NoticeVersion")
    NoticeVersion.objects.get_or_create(version=VERSION, defaults={
        "published_on": PUBLISHED_ON, "text": NOTICE_FILE.read_text(encoding="utf-8").strip(), "summary": SUMMARY})


def unpublish(apps, schema_editor):
    apps.get_model("compliance", "NoticeVersion").objects.filter(version=VERSION).delete()


class Migration(migrations.Migration):

    dependencies = [("compliance", "0001_initial")]

    operations = [migrations.RunPython(publish, unpublish)]
