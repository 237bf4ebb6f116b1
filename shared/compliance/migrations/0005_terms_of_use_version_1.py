"""Version 1 of the Terms of Use, the text in ``shared/compliance/terms/terms-of-use-v1.txt``.

Dated 1 November 2026, with version 1 of the privacy notice that refers to it. Every school is
asked to accept it: those already onboarded at their admin's next page on the school's site."""

import datetime as dt
from pathlib import Path

from django.db import migrations

TERMS_FILE = Path(__file__).resolve().parents[1] / "terms" / "terms-of-use-v1.txt"
VERSION = "1"
PUBLISHED_ON = dt.date(2026, 11, 1)
SUMMARY = ("The terms as first published here: the school's instructions, confidentiality, security, "
           "sub-processors, help with people's rights, breaches and impact assessments, deletion or return at the "
           "end, audits, and the school's own obligations as controller (UK GDPR Article 28(3)).")


def publish(apps, schema_editor):
    TermsVersion = apps.get_model("compliance", "TermsVersion")
    TermsVersion.objects.get_or_create(version=VERSION, defaults={
        "published_on": PUBLISHED_ON, "text": TERMS_FILE.read_text(encoding="utf-8").strip(), "summary": SUMMARY})


def unpublish(apps, schema_editor):
    apps.get_model("compliance", "TermsVersion").objects.filter(version=VERSION, acceptances__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [("compliance", "0004_terms_of_use")]

    operations = [migrations.RunPython(publish, unpublish)]
