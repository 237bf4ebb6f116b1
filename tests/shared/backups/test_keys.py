"""Schools' data keys in the database: made on a school's first backup, stored only wrapped, and
destroyed by retention in the same transaction as the school's schema, after which a backup made
with the key is refused with the date and cause, and the certificate of destruction says so.

The backup files here are written by the format's encryptor from bytes the test makes (pg_dump
can't see this test's uncommitted schools: the real dump and restore are in test_backup_restore)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import os

import pytest
from django.db import IntegrityError, transaction

from orchestration.backup import backup_check, backup_open, backup_write
from orchestration.provisioning import client_onboard
from orchestration.retention.run import retention_run
from shared.backups import crypto
from shared.backups.crypto import BackupCorrupt, Header, MasterKeyMissing
from shared.backups.keys import BackupKeyDestroyed, BackupRefused, data_key_for_backup, data_keys_rewrap
from shared.backups.models import SchoolDataKey
from shared.changes import Actor
from shared.clients.selectors import current_contract
from shared.clients.services import contract_cancel
from shared.operators.models import Operator
from shared.privacy.models import DeletionRecord
from shared.schools.models import School

pytestmark = pytest.mark.django_db
CANCELLED_ON = dt.date(2026, 12, 31)
DROPPED_ON = dt.date(2027, 6, 30)


@pytest.fixture
def school() -> School:
    actor = Actor.operator(Operator.objects.get(role=Operator.Role.ADMINISTRATOR).user)
    provisioned = client_onboard(actor=actor, name="Keyed School", subdomain="keyed", admin_email="head@keyed.example",
                                 contract_starts_on=dt.date(2025, 9, 1))
    contract_cancel(actor=actor, contract=current_contract(provisioned.school), cancelled_on=CANCELLED_ON)
    provisioned.school.refresh_from_db()
    return provisioned.school


def backup_file(tmp_path, school: School, data: bytes = b"PGDMP a school's dump") -> os.PathLike:
    row, key = data_key_for_backup(school=school)
    path = tmp_path / f"{school.schema_name}.backup"
    with open(path, "wb") as target:
        crypto.encrypt_stream(io.BytesIO(data), target, data_key=key, header=Header.new(
            school_id=school.pk, schema=school.schema_name, data_key_id=row.pk, master_key_id=row.master_key_id,
            created_at="2027-01-01T00:00:00+00:00"))
    return path


def test_a_schools_first_backup_makes_its_key_and_later_ones_reuse_it(school):
    row, key = data_key_for_backup(school=school)
    again, same_key = data_key_for_backup(school=school)

    assert again.pk == row.pk and same_key == key and len(key) == 32
    assert SchoolDataKey.objects.filter(school=school).count() == 1
    assert key not in bytes(row.wrapped_key)  # stored only wrapped
    assert row.master_key_id == crypto.master_keys()[0]


def test_a_school_has_one_live_key_at_most(school):
    row, _ = data_key_for_backup(school=school)

    with pytest.raises(IntegrityError), transaction.atomic():
        SchoolDataKey.objects.create(school=school, wrapped_key=bytes(row.wrapped_key), master_key_id=row.master_key_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        SchoolDataKey.objects.filter(pk=row.pk).update(destroyed_at=row.created_at)  # destroyed but key kept


def test_without_a_master_key_no_key_is_made(school, settings):
    settings.BACKUP_MASTER_KEY = ""

    with pytest.raises(MasterKeyMissing, match="BACKUP_MASTER_KEY is not set"):
        data_key_for_backup(school=school)
    assert not SchoolDataKey.objects.filter(school=school).exists()


def test_a_backup_reads_back_until_retention_drops_the_schema_and_destroys_the_key(school, tmp_path):
    path = backup_file(tmp_path, school)
    assert backup_check(path=path) == len(b"PGDMP a school's dump")
    wrapped = bytes(SchoolDataKey.objects.get(school=school).wrapped_key)

    retention_run(as_of=DROPPED_ON)

    key = SchoolDataKey.objects.get(school=school)
    assert key.wrapped_key is None and key.destroyed_by == "retention"
    assert key.destroyed_at is not None and School.objects.get(pk=school.pk).schema_dropped_at is not None
    assert not SchoolDataKey.objects.filter(wrapped_key=wrapped).exists()
    record = DeletionRecord.objects.get(kind="school_database", school_id=school.pk)
    assert record.backup_keys_destroyed == 1
    with pytest.raises(BackupKeyDestroyed) as refused:
        backup_check(path=path)
    assert str(refused.value).startswith("this backup can no longer be read: the school's data key was destroyed on ")
    assert str(refused.value).endswith(" by retention")


def test_a_failed_schema_drop_keeps_the_key(school, monkeypatch):
    data_key_for_backup(school=school)
    retention_run(as_of=dt.date(2027, 3, 31))  # the configuration goes first, on its own
    create = DeletionRecord.objects.create

    def fail_on_the_schema(**fields):
        if fields["kind"] == "school_database":
            raise RuntimeError("the disk is full")
        return create(**fields)

    monkeypatch.setattr(DeletionRecord.objects, "create", fail_on_the_schema)

    with pytest.raises(RuntimeError):
        retention_run(as_of=DROPPED_ON)

    key = SchoolDataKey.objects.get(school=school)
    assert key.destroyed_at is None and key.wrapped_key is not None
    assert School.objects.get(pk=school.pk).schema_dropped_at is None


def test_a_school_without_backups_loses_no_key_and_the_record_says_none(school):
    retention_run(as_of=DROPPED_ON)

    assert DeletionRecord.objects.get(kind="school_database", school_id=school.pk).backup_keys_destroyed == 0
    assert not SchoolDataKey.objects.filter(school=school).exists()


def test_another_schools_backup_is_refused(school, oakfield, tmp_path):
    path = backup_file(tmp_path, school)

    with pytest.raises(BackupRefused, match=f"the backup is of school {school.pk}"):
        backup_open(path=path, school=oakfield.school)


def test_a_file_naming_a_key_that_does_not_exist_is_refused(school, tmp_path):
    path = backup_file(tmp_path, school)
    SchoolDataKey.objects.filter(school=school).delete()

    with pytest.raises(BackupCorrupt, match="which does not exist"):
        backup_open(path=path)


def test_no_backup_is_written_of_a_dropped_school(school, tmp_path):
    retention_run(as_of=DROPPED_ON)
    school.refresh_from_db()

    with pytest.raises(BackupRefused, match="dropped by retention"):
        backup_write(school=school, out_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert not SchoolDataKey.objects.filter(school=school).exists()


def test_after_a_master_key_rotation_keys_are_rewrapped_and_old_backups_still_read(school, settings, tmp_path):
    old, new = base64.b64encode(os.urandom(32)).decode(), base64.b64encode(os.urandom(32)).decode()
    settings.BACKUP_MASTER_KEY, settings.BACKUP_MASTER_KEYS_RETIRED = old, []
    path = backup_file(tmp_path, school)

    settings.BACKUP_MASTER_KEY, settings.BACKUP_MASTER_KEYS_RETIRED = new, [old]
    assert data_keys_rewrap() == 1
    settings.BACKUP_MASTER_KEYS_RETIRED = []  # the old master key thrown away

    assert SchoolDataKey.objects.get(school=school).master_key_id == crypto.master_keys()[0]
    assert backup_check(path=path) == len(b"PGDMP a school's dump")
    assert data_keys_rewrap() == 0


def test_the_certificate_of_destruction_says_the_backups_are_unreadable(school):
    from tests.helpers import console_client

    data_key_for_backup(school=school)
    retention_run(as_of=DROPPED_ON)

    certificate = console_client(Operator.Role.DPO).get(f"/console/retention/certificates/{school.pk}/")

    assert certificate.status_code == 200
    text = " ".join(certificate.content.decode().split())
    assert ("every backup of the client database was encrypted with a key held for that client alone, and the key "
            "was destroyed with the database on") in text
    assert "Those backups can no longer be read" in text
