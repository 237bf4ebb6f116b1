"""The daily purge of what has expired: sessions (the console's in public, and each school's in its
own schema) and the files of one-time access exports, at the boundary second, school by school."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django_tenants.utils import schema_context

from orchestration.tasks import expired_sign_ins_and_exports_daily
from shared import clock
from shared.deadletter import deadletter_items
from tenants.configuration.storage import school_files
from tenants.pupils.models import Pupil
from tenants.rights import services as rights
from tenants.rights.models import ExportLink, SchoolRequest
from tests.tenants.rights.test_tools import head_of, open_request

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2027, 3, 1, 2, 45, tzinfo=dt.timezone.utc)


@pytest.fixture
def pinned(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture(autouse=True)
def _no_set_aside_items():
    """Redis is not rolled back with the test: each test starts with the job's dead-letter list empty."""
    from shared.deadletter import deadletter_key
    from shared.redis_client import redis_client

    redis_client().delete(deadletter_key("expired_sign_ins_and_exports_daily"))
    yield
    redis_client().delete(deadletter_key("expired_sign_ins_and_exports_daily"))


def sessions_at(offsets: dict[str, int]) -> None:
    for key, seconds in offsets.items():
        Session.objects.create(session_key=key, session_data="", expire_date=NOW + dt.timedelta(seconds=seconds))


def an_export(school, *, expires_in: int) -> ExportLink:
    request = open_request(school, SchoolRequest.Kind.ACCESS, Pupil.objects.first())
    link, _ = rights.export_build(user=head_of(school), request=request)
    link.expires_at = NOW + dt.timedelta(seconds=expires_in)
    link.save(update_fields=["expires_at"])
    return link


def test_expired_sessions_go_in_public_and_in_every_school_and_the_others_stay(oakfield, riverside, pinned):
    offsets = {"expired000000000000000000000000a": -1, "boundary00000000000000000000000b": 0, "live0000000000000000000000000000c": 1}
    sessions_at(offsets)
    for school in (oakfield, riverside):
        with schema_context(school.school.schema_name):
            sessions_at(offsets)

    expired_sign_ins_and_exports_daily.fn()

    kept = sorted(key[:8] for key in Session.objects.filter(session_key__in=offsets).values_list("session_key", flat=True))
    assert kept == ["boundary", "live0000"]
    for school in (oakfield, riverside):
        with schema_context(school.school.schema_name):
            assert sorted(k[:8] for k in Session.objects.filter(session_key__in=offsets).values_list("session_key", flat=True)) \
                == ["boundary", "live0000"]


@pytest.mark.parametrize(("expires_in", "gone"), [(-1, True), (0, True), (1, False)])
def test_an_export_past_its_expiry_loses_its_file_and_one_not_yet_keeps_it(oakfield, pinned, expires_in, gone):
    with schema_context(oakfield.school.schema_name):
        link = an_export(oakfield, expires_in=expires_in)

    expired_sign_ins_and_exports_daily.fn()

    with schema_context(oakfield.school.schema_name):
        link.refresh_from_db()
        assert school_files.exists(link.file) is not gone
        assert (link.downloaded_at == NOW) is gone


def test_a_school_whose_purge_fails_is_set_aside_and_the_others_are_purged(oakfield, riverside, pinned, monkeypatch):
    from django.db import connection

    real = rights.exports_expire

    def broken_for_oakfield():
        if connection.schema_name == oakfield.school.schema_name:
            raise RuntimeError("this school's table is broken")
        return real()

    monkeypatch.setattr(rights, "exports_expire", broken_for_oakfield)
    with schema_context(riverside.school.schema_name):
        link = an_export(riverside, expires_in=-1)

    expired_sign_ins_and_exports_daily.fn()

    with schema_context(riverside.school.schema_name):
        link.refresh_from_db()
        assert link.downloaded_at == NOW
    [set_aside] = deadletter_items("expired_sign_ins_and_exports_daily")
    assert set_aside["item_id"] == oakfield.school.schema_name


def test_each_schools_purge_is_recorded_as_its_last_run_failed_or_succeeded(oakfield, riverside, pinned, monkeypatch):
    from django.db import connection

    from shared.audit.models import AutomatedRun

    real = rights.exports_expire

    def broken_for_oakfield():
        if connection.schema_name == oakfield.school.schema_name:
            raise RuntimeError("this school's table is broken")
        return real()

    monkeypatch.setattr(rights, "exports_expire", broken_for_oakfield)

    expired_sign_ins_and_exports_daily.fn()

    runs = dict(AutomatedRun.objects.filter(process="expired_sign_ins_and_exports_daily")
                .values_list("school_id", "outcome"))
    assert runs[oakfield.school.pk] == "failed" and runs[riverside.school.pk] == "succeeded"
    assert None not in runs  # a job that works school by school records each school's run, not one for all
    assert AutomatedRun.objects.get(process="expired_sign_ins_and_exports_daily",
                                    school_id=riverside.school.pk).started_at == NOW
