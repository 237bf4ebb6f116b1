"""A school's encrypted backup with the real ``pg_dump`` / ``pg_restore`` / ``psql``: restoring it
gives back exactly the schema that was backed up, then replays the erasure ledger and retention's
deletions made since; a tampered file is refused without touching the school; and once retention
has dropped the school's schema (destroying its data key) the old backup can no longer be read.

pg_dump sees only committed data, so the whole story runs once, as the product would, in a process
of its own against the test database, on a school of its own that the fixture removes afterwards;
each test below checks one part of what it saw."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.db import connection

from tests.helpers import committed

REPO_ROOT = Path(__file__).resolve().parents[2]
SUBDOMAIN = "backuptest"
SCENARIO = r"""
import datetime as dt, io, json, os, sys, django
django.setup()
from django.db import connection
connection.settings_dict["NAME"] = sys.argv[1]
subdomain, out = sys.argv[2], sys.argv[3]
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context
from ops.xporter_fake import FakeSchool
from shared.backups.crypto import BackupCorrupt
from shared.backups.models import SchoolDataKey
from orchestration.backup import backup_check, backup_write
from shared.backups.keys import BackupKeyDestroyed, BackupRefused
from shared.clients.selectors import current_contract
from orchestration.provisioning import client_onboard
from shared.clients.services import contract_cancel
from shared.operators.models import Operator
from orchestration.retention.run import retention_run
from shared.privacy.models import DeletionRecord
from shared.privacy.requests.services import request_start
from shared.schools.models import School
from shared.changes import Actor
from shared.changes import Actor
from tenants.assessment.models import Result
from tenants.pupils.models import Pupil
from tenants.rights.services import school_request_receive, subject_erase
from tenants.users.models import User
from tenants.xporter.apply import import_payload
from tenants.xporter.parse import payload_from_xporter_json

actor = Actor.operator(Operator.objects.get(role=Operator.Role.ADMINISTRATOR).user)
school = client_onboard(actor=actor, name="Backup School", subdomain=subdomain, admin_email="head@backup.example",
                        contract_starts_on=dt.date(2025, 9, 1)).school
schema = school.schema_name
fake = FakeSchool(estab="3309999", pupils=12, contacts_per_pupil=2, results_per_pupil=6, seed=7)
with schema_context(schema):
    import_payload(payload_from_xporter_json(fake.document(("assessmentstructure", "Students", "Contacts",
                                                            "StudentContacts", "Staff", "Groups", "assessmentresults"))))
    Pupil.objects.filter(xporter_id="S00001").update(forename="Zoë", surname="O'Brien-Ĳssel")  # quotes, non-ASCII
    Pupil.objects.filter(xporter_id="S00005").update(on_roll=False, leaving_date=dt.date(2020, 1, 1))  # retention's, soon
    from tenants.rights.models import SchoolRequest
    SchoolRequest.objects.create(kind="access", state="completed", received_on=dt.date(2019, 5, 2),  # due 2 May 2026
                                 closed_on=dt.date(2019, 5, 20), requester_name="Old Request")

def old_requests():
    from tenants.rights.models import SchoolRequest
    with schema_context(schema):
        return SchoolRequest.objects.filter(requester_name="Old Request").count()

def snapshot():
    # Every table's rows, every sequence's position, every index and constraint of the schema.
    seen = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", [schema])
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT count(*), md5(coalesce(string_agg(t::text, E\'\\n\' ORDER BY t::text), \'\')) '
                           f'FROM "{schema}"."{table}" t')
            seen[f"table {table}"] = list(cursor.fetchone())
        cursor.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = %s", [schema])
        seen.update({f"sequence {name}": value for name, value in cursor.fetchall()})
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", [schema])
        seen.update({f"index {name}": definition for name, definition in cursor.fetchall()})
        cursor.execute("SELECT conrelid::regclass::text || ' ' || conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                       "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = %s", [schema])
        seen.update({f"constraint {name}": definition for name, definition in cursor.fetchall()})
    return seen

def pupils():
    with schema_context(schema):
        return sorted(Pupil.objects.values_list("xporter_id", flat=True))

def run(command, **options):
    output = io.StringIO()
    try:
        call_command(command, stdout=output, stderr=output, **options)
        return {"ok": True, "output": output.getvalue()}
    except CommandError as error:
        return {"ok": False, "output": output.getvalue(), "error": str(error)}

seen = {"schema": schema, "school_id": school.pk}
seen["original"] = snapshot()
seen["original_pupils"] = pupils()
seen["backup"] = run("backup_school", school=subdomain, out=out)
files = sorted(name for name in os.listdir(out) if name.endswith(".backup"))
seen["files"] = files
path = os.path.join(out, files[0])
with open(path, "rb") as f:
    seen["plaintext_in_file"] = any(marker in f.read() for marker in (b"PGDMP", b"O'Brien", "Zoë".encode(), b"S00002"))
seen["check"] = run("restore_school", file=path, check=True)

# Changes after the backup, which the restore takes back.
with schema_context(schema):
    Pupil.objects.filter(xporter_id="S00002").update(surname="Changed")
    Result.objects.filter(pupil__xporter_id="S00003").delete()
    Pupil.objects.create(forename="New", surname="Arrival", xporter_id="S09999")
seen["changed"] = snapshot()
seen["restore"] = run("restore_school", file=path, school=subdomain)
seen["restored"] = snapshot()
seen["restored_pupils"] = pupils()

# A tampered file, and one cut short, are refused and the school is left as it was.
data = open(path, "rb").read()
tampered, short = path + ".tampered", path + ".short"
middle = len(data) // 2
open(tampered, "wb").write(data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:])
open(short, "wb").write(data[:-40])
seen["tampered_restore"] = run("restore_school", file=tampered)
seen["short_restore"] = run("restore_school", file=short)
seen["after_refusals"] = snapshot()

# Erasure and retention after the backup: the restore brings both pupils back, the replays delete them again.
with schema_context(schema):
    head = User.objects.get(email="head@backup.example")
    erin = Pupil.objects.get(xporter_id="S00004")
    request = school_request_receive(user=head, kind="erasure", requester_name="Parent", subject=erin)
    request_start(actor=Actor.school_user(head, schema), request=request)
    subject_erase(user=head, request=request)
retention_run(as_of=dt.date(2026, 11, 1), school_id=school.pk, scope="school")
seen["after_erasure_pupils"] = pupils()
seen["old_requests_after_retention"] = old_requests()
seen["restore_after_erasure"] = run("restore_school", file=path, school=subdomain)
seen["after_erasure_restore_pupils"] = pupils()
seen["old_requests_after_restore"] = old_requests()
with schema_context(schema):
    seen["erased_pupils_results"] = Result.objects.filter(pupil__xporter_id__in=["S00004", "S00005"]).count()

# Retention drops the schema 6 months after cancellation: the data key goes with it.
key = SchoolDataKey.objects.get(school=school)
wrapped_before = bytes(key.wrapped_key)
contract_cancel(actor=actor, contract=current_contract(school), cancelled_on=dt.date(2026, 12, 31))
retention_run(as_of=dt.date(2027, 6, 30), school_id=school.pk)
key.refresh_from_db()
seen["key_after_drop"] = {"wrapped_key": key.wrapped_key, "destroyed": key.destroyed_at is not None,
                          "destroyed_by": key.destroyed_by}
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM backups_schooldatakey WHERE wrapped_key = %s", [wrapped_before])
    seen["wrapped_key_copies"] = cursor.fetchone()[0]
seen["deletion_record"] = list(DeletionRecord.objects.filter(school_id=school.pk, kind="school_database")
                               .values_list("backup_keys_destroyed", flat=True))
try:
    backup_check(path=path)
    seen["decrypt_after_drop"] = "decrypted"
except BackupKeyDestroyed as error:
    seen["decrypt_after_drop"] = str(error)
seen["restore_after_drop"] = run("restore_school", file=path)
try:
    backup_write(school=School.objects.get(pk=school.pk), out_dir=out)
    seen["backup_after_drop"] = "written"
except BackupRefused as error:
    seen["backup_after_drop"] = str(error)
seen["files_at_end"] = sorted(name for name in os.listdir(out) if name.endswith(".backup"))
print("RESULT " + json.dumps(seen, default=str))
"""


pytestmark = pytest.mark.django_db

PUBLIC_TABLES_BY_ID = ["privacy_deletionrecord", "privacy_retentionrun", "technical_changelogentry"]


@pytest.fixture(scope="module")
def seen(django_db_setup, django_db_blocker):
    """Run the scenario once; afterwards remove its school and every public row it made."""
    out = tempfile.mkdtemp(prefix="pupiltrack-backups-")
    with django_db_blocker.unblock():
        with committed() as cursor:
            before = {}
            for table in [*PUBLIC_TABLES_BY_ID, "schools_school"]:
                cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
                before[table] = cursor.fetchone()[0]
        try:
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "LOG_LEVEL": "WARNING",
                   "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "platform")])}
            done = subprocess.run([sys.executable, "-c", SCENARIO, connection.settings_dict["NAME"], SUBDOMAIN, out],
                                  cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, done.stderr[-4000:]
            yield json.loads(done.stdout.split("RESULT ", 1)[1])
        finally:
            shutil.rmtree(out, ignore_errors=True)
            _remove_scenario_rows(before)


def _remove_scenario_rows(before: dict[str, int]) -> None:
    with committed() as cursor:
        cursor.execute("SELECT id, schema_name FROM schools_school WHERE id > %s", [before["schools_school"]])
        schools = cursor.fetchall()
        for table in PUBLIC_TABLES_BY_ID:
            cursor.execute(f"DELETE FROM {table} WHERE id > %s", [before[table]])
        cursor.execute("SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
                       "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
                       "WHERE c.contype = 'f' AND c.confrelid = 'public.schools_school'::regclass")
        references = cursor.fetchall()
        for school_id, schema in schools:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            for table, column in references:
                cursor.execute(f'DELETE FROM {table} WHERE "{column}" = %s', [school_id])
            cursor.execute("DELETE FROM schools_school WHERE id = %s", [school_id])


def test_the_backup_is_one_encrypted_file_with_no_plaintext_in_it(seen):
    assert seen["backup"]["ok"], seen["backup"]
    assert seen["files"] == [name for name in seen["files"] if name.startswith(f"{seen['schema']}-")]
    assert len(seen["files"]) == 1
    assert seen["plaintext_in_file"] is False  # neither pg_dump's magic nor any pupil's name or id
    assert "Backups: 1 written" in seen["backup"]["output"]
    assert seen["check"]["ok"] and "intact and readable" in seen["check"]["output"]


def test_a_restored_backup_equals_the_original(seen):
    assert seen["changed"] != seen["original"]  # the changes after the backup are real...
    assert seen["restore"]["ok"], seen["restore"]

    assert seen["restored"] == seen["original"]  # ...and every table, sequence, index and constraint is back
    assert seen["restored_pupils"] == seen["original_pupils"]
    assert len([k for k in seen["original"] if k.startswith("table ")]) >= 10
    assert f"Restored school {seen['school_id']}" in seen["restore"]["output"]


def test_a_tampered_or_cut_backup_is_refused_and_the_school_is_untouched(seen):
    assert seen["tampered_restore"]["ok"] is False
    assert "fails authentication" in seen["tampered_restore"]["error"]
    assert seen["short_restore"]["ok"] is False
    assert "cut short" in seen["short_restore"]["error"]
    assert seen["after_refusals"] == seen["original"]


def test_the_restore_replays_the_erasure_ledger_and_retentions_deletions(seen):
    gone = ["S00004", "S00005"]  # erased; deleted by retention (left in 2020)
    assert {"S00004", "S00005"} <= set(seen["original_pupils"])
    assert seen["after_erasure_pupils"] == [p for p in seen["original_pupils"] if p not in gone]
    assert seen["restore_after_erasure"]["ok"], seen["restore_after_erasure"]

    assert seen["after_erasure_restore_pupils"] == [p for p in seen["original_pupils"] if p not in gone]
    assert seen["erased_pupils_results"] == 0
    assert "erasure ledger replayed: pupils.Pupil 1" in seen["restore_after_erasure"]["output"]
    assert "retention deletions applied again: 0 record(s)" not in seen["restore_after_erasure"]["output"]
    # A school's closed request deleted by the default rule (7 years from receipt) stays deleted.
    assert (seen["old_requests_after_retention"], seen["old_requests_after_restore"]) == (0, 0)


def test_after_retention_drops_the_schema_the_old_backup_cannot_be_decrypted(seen):
    assert seen["key_after_drop"] == {"wrapped_key": None, "destroyed": True, "destroyed_by": "retention"}
    assert seen["wrapped_key_copies"] == 0
    assert seen["deletion_record"] == [1]

    assert seen["decrypt_after_drop"].startswith(
        "this backup can no longer be read: the school's data key was destroyed on ")
    assert seen["decrypt_after_drop"].endswith(" by retention")
    assert seen["restore_after_drop"]["ok"] is False
    assert "this backup can no longer be read" in seen["restore_after_drop"]["error"]
    assert "dropped by retention" in seen["backup_after_drop"]
    assert seen["files_at_end"] == seen["files"]  # the refused backup left no file behind
