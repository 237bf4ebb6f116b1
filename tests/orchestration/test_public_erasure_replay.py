"""A contact the vendor erased stays erased after a restore of public from a real ``pg_dump`` taken
before the erasure, followed by ``erasure_replay --public``: the restored ledger predates the
erasure, so the replay takes the entries from the ledger's copy outside the database.

pg_dump sees only committed data, so the story runs as the product would, in a process of its own:
it records a contact (with a letter and its attachment, and a complaint) and another who is kept,
dumps public, erases the first, restores the dump into a scratch database (the attachment's file
put back too, as a restore of the files would), replays there, and reports what each step saw. The
test removes the scratch database and the rows it committed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.db import connection

from tests.helpers import committed

REPO_ROOT = Path(__file__).resolve().parents[2]
MARK = "Restore-replay"
SCENARIO = r"""
import json, os, shutil, sys, tempfile, django
django.setup()
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
connection.settings_dict["NAME"] = sys.argv[1]
scratch, mark = sys.argv[2], sys.argv[3]
from shared.changes import Actor
from shared.clients.models import Complaint, Contact, Correspondence, CorrespondenceAttachment
from shared.clients.services import complaint_record, contact_create, correspondence_record
from shared.operators.models import Operator
from shared.pg_tools import pg_run
from shared.privacy.requests import services as states
from shared.privacy.requests import vendor_tools as tools
from shared.schools.models import School

actor = Actor.operator(Operator.objects.get(role=Operator.Role.DPO).user)
school = School.objects.exclude(schema_name="public").filter(schema_dropped_at=None).order_by("pk").first()
robin = contact_create(actor=actor, school=school, full_name=f"{mark} Robin", email="robin@restore.example")
kim = contact_create(actor=actor, school=school, full_name=f"{mark} Kim")
letter = correspondence_record(actor=actor, school=school, direction="in", channel="email", subject=f"{mark} letter",
                               contact=robin, attachments=[SimpleUploadedFile("order.pdf", b"%PDF-1.7\n%order\n")])
complaint_record(actor=actor, school=school, summary=f"{mark} complaint", contact=robin)
attachment = settings.VENDOR_FILES_ROOT / letter.attachments.get().file.name
ids = {"contact": robin.pk, "letter": letter.pk}

def seen_now():
    return {"contacts": sorted(Contact.objects.filter(full_name__startswith=mark).values_list("full_name", flat=True)),
            "letters": Correspondence.objects.filter(subject__startswith=mark).count(),
            "attachments": CorrespondenceAttachment.objects.filter(correspondence_id=ids["letter"]).count(),
            "complaints": Complaint.objects.filter(summary__startswith=mark).count(),
            "file": attachment.exists()}

seen = {"before": seen_now()}
folder = tempfile.mkdtemp()
dump, saved_file = os.path.join(folder, "public.dump"), os.path.join(folder, "attachment")
pg_run("pg_dump", "--format=custom", "--schema=public", f"--file={dump}")
shutil.copyfile(attachment, saved_file)

request = states.request_receive(actor=actor, kind="erasure", requester_name=f"{mark} Robin")
tools.vendor_subject_identify(actor=actor, request=request, subject=robin)
states.request_start(actor=actor, request=request)
tools.vendor_subject_erase(actor=actor, request=request)
seen["after_erasure"] = seen_now()
seen["request"] = request.pk

pg_run("psql", "--quiet", "-c", f'CREATE DATABASE "{scratch}"')
pg_run("psql", "--quiet", "-c", "DROP SCHEMA public CASCADE", database=scratch)
pg_run("pg_restore", "--exit-on-error", "--no-owner", f"--dbname={scratch}", dump)
shutil.copyfile(saved_file, attachment)  # the vendor's files restored from their own backup
connection.close()
connection.settings_dict["NAME"] = scratch
connection.set_schema_to_public()
seen["after_restore"] = seen_now()
from shared.privacy.models import ErasureLedgerEntry
seen["restored_ledger"] = ErasureLedgerEntry.objects.filter(school=None, object_id=ids["contact"],
                                                            model="clients.Contact").count()
call_command("erasure_replay", public=True)
seen["after_replay"] = seen_now()
seen["ledger_after_replay"] = ErasureLedgerEntry.objects.filter(school=None, object_id=ids["contact"],
                                                                model="clients.Contact").count()
call_command("erasure_replay", public=True)
seen["after_second_replay"] = seen_now()
connection.close()
print("RESULT " + json.dumps(seen))
"""

pytestmark = pytest.mark.django_db


@pytest.fixture
def scratch_database():
    name = f"{connection.settings_dict['NAME']}_public_restore"[:63]
    files = tempfile.mkdtemp(prefix="pupiltrack-test-restore-files-")
    yield name, files
    with committed() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute("DELETE FROM clients_correspondence WHERE subject LIKE %s", [f"{MARK}%"])
        cursor.execute("DELETE FROM clients_complaint WHERE summary LIKE %s", [f"{MARK}%"])
        cursor.execute("DELETE FROM clients_contact WHERE full_name LIKE %s", [f"{MARK}%"])
        cursor.execute("DELETE FROM privacy_erasureledgerentry WHERE school_id IS NULL AND request_ref IN "
                       "(SELECT 'vendor-request:' || id FROM privacy_subjectrequest WHERE requester_name LIKE %s)",
                       [f"{MARK}%"])
        cursor.execute("DELETE FROM privacy_subjectrequest WHERE requester_name LIKE %s", [f"{MARK}%"])


def test_an_erased_contact_stays_erased_after_a_restore_of_public_and_the_replay(scratch_database):
    scratch, files = scratch_database
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "LOG_LEVEL": "WARNING",
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "platform")]),
           "VENDOR_FILES_ROOT": files, "ERASURE_LEDGER_MIRROR": os.path.join(files, "ledger", "public.jsonl")}
    done = subprocess.run([sys.executable, "-c", SCENARIO, connection.settings_dict["NAME"], scratch, MARK],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.split("RESULT ", 1)[1])

    everything = {"contacts": [f"{MARK} Kim", f"{MARK} Robin"], "letters": 1, "attachments": 1, "complaints": 1,
                  "file": True}
    erased = {"contacts": [f"{MARK} Kim"], "letters": 0, "attachments": 0, "complaints": 0, "file": False}
    assert seen["before"] == everything
    assert seen["after_erasure"] == erased
    assert seen["after_restore"] == everything  # the backup still holds Robin, and its ledger does not know...
    assert seen["restored_ledger"] == 0
    assert seen["after_replay"] == erased  # ...until the replay, from the ledger's copy outside the database
    assert seen["ledger_after_replay"] == 1  # the restored ledger has the entry back
    assert seen["after_second_replay"] == erased  # and a second replay finds nothing more
