"""An erased pupil stays erased after a real ``pg_dump`` / ``pg_restore`` of the school's schema
followed by ``erasure_replay``, and a later import from the MIS does not bring them back either.

The scenario commits (pg_dump sees only committed data), so it runs as the product would, in a
process of its own, on a school of its own that the test removes afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.helpers import committed

REPO_ROOT = Path(__file__).resolve().parents[2]
SUBDOMAIN = "restoretest"
SCENARIO = r"""
import json, os, sys, tempfile, django
django.setup()
from django.db import connection
connection.settings_dict["NAME"] = sys.argv[1]
from django.core.management import call_command
from django_tenants.utils import schema_context
from shared.privacy.requests.services import request_start
from orchestration.provisioning import school_provision
from shared.changes import Actor
from shared.changes import Actor
from tenants.pupils.models import Pupil
from tenants.rights.services import school_request_receive, subject_erase
from tenants.users.models import User
from tenants.xporter.apply import import_payload
from tenants.xporter.parse import payload_from_xporter_json

school = school_provision(name="Restore School", subdomain=sys.argv[2], admin_email="head@restore.example").school
schema = school.schema_name
seen = {"schema": schema}
def names():
    with schema_context(schema):
        return sorted(Pupil.objects.values_list("surname", flat=True))
with schema_context(schema):
    head = User.objects.get(email="head@restore.example")
    erin = Pupil.objects.create(forename="Erin", surname="Erased", xporter_id="X-ERIN")
    Pupil.objects.create(forename="Kim", surname="Kept", xporter_id="X-KIM")
from shared.pg_tools import pg_run
dump = os.path.join(tempfile.mkdtemp(), "school.dump")
pg_run("pg_dump", "--format=custom", f"--schema={schema}", f"--file={dump}")
with schema_context(schema):
    request = school_request_receive(user=head, kind="erasure", requester_name="Erin's parent", subject=erin)
    request_start(actor=Actor.school_user(head, schema), request=request)
    subject_erase(user=head, request=request)
seen["after_erasure"] = names()
with connection.cursor() as cursor:
    cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
connection.close()
pg_run("pg_restore", "--exit-on-error", dump)
seen["after_restore"] = names()
call_command("erasure_replay", school=sys.argv[2])
seen["after_replay"] = names()
with schema_context(schema):
    import_payload(payload_from_xporter_json({"Students": [
        {"Id": "X-ERIN", "Forename": "Erin", "Surname": "Erased"}, {"Id": "X-KIM", "Forename": "Kim", "Surname": "Kept"}]}))
seen["after_reimport"] = names()
print("RESULT " + json.dumps(seen))
"""


pytestmark = pytest.mark.django_db


@pytest.fixture
def restore_school():
    yield
    with committed() as cursor:
        cursor.execute("SELECT s.id, s.schema_name FROM schools_school s JOIN schools_domain d ON d.tenant_id = s.id "
                       "WHERE d.domain LIKE %s", [f"{SUBDOMAIN}.%"])
        for school_id, schema in cursor.fetchall():
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            cursor.execute("DELETE FROM privacy_erasureledgerentry WHERE school_id = %s", [school_id])
            cursor.execute("DELETE FROM technical_changelogentry WHERE object_schema = %s OR actor_schema = %s", [schema, schema])
            cursor.execute("DELETE FROM schools_domain WHERE tenant_id = %s", [school_id])
            cursor.execute("DELETE FROM schools_school WHERE id = %s", [school_id])


def test_an_erased_pupil_stays_erased_after_a_restore_and_the_ledger_replay(restore_school):
    # This checkout's code, whichever checkout the virtualenv was installed from.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "LOG_LEVEL": "WARNING",
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "platform")])}
    done = subprocess.run([sys.executable, "-c", SCENARIO, connection.settings_dict["NAME"], SUBDOMAIN],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.split("RESULT ", 1)[1])

    assert seen["after_erasure"] == ["Kept"]
    assert seen["after_restore"] == ["Erased", "Kept"]  # the backup still holds her...
    assert seen["after_replay"] == ["Kept"]  # ...until the ledger is replayed
    assert seen["after_reimport"] == ["Kept"]  # and the MIS cannot bring her back
