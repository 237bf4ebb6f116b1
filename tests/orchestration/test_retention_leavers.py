"""On roll until the leaving date, every day: the daily job makes a pupil whose leaving date has
passed a leaver, without an import, and retention's grace period runs from that date."""

from __future__ import annotations

import datetime as dt

import pytest
from django_tenants.utils import schema_context

from orchestration.retention.collect import school_units_collect
from shared import clock
from shared.audit.models import ChangeLogEntry
from tenants.pupils.models import Pupil
from tests.tenants.xporter.test_import import in_school  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_a_pupil_becomes_a_leaver_the_day_after_their_leaving_date(oakfield, monkeypatch):
    from orchestration.tasks import pupils_leavers_daily

    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.filter(on_roll=True).first()
        Pupil.objects.filter(pk=pupil.pk).update(leaving_date=dt.date(2026, 7, 22))
    monkeypatch.setattr(clock, "today", lambda: dt.date(2026, 7, 22))
    pupils_leavers_daily.fn()
    with schema_context(oakfield.school.schema_name):
        assert Pupil.objects.get(pk=pupil.pk).on_roll is True  # on roll through the leaving day

    monkeypatch.setattr(clock, "today", lambda: dt.date(2026, 7, 23))
    pupils_leavers_daily.fn()

    with schema_context(oakfield.school.schema_name):
        left = Pupil.objects.get(pk=pupil.pk)
        assert (left.on_roll, left.leaving_date) == (False, dt.date(2026, 7, 22))
    units = {record.key: record for record in school_units_collect(oakfield.school)}
    unit = units[f"school:{oakfield.school.pk}:pupil:{pupil.pk}"]
    assert (unit.counts_from, unit.period.months) == (dt.date(2026, 7, 22), 12)  # the grace runs from the leaving date


def test_a_pupil_gone_from_xporter_leaves_on_the_imports_day_unless_they_left_earlier(in_school, monkeypatch):  # noqa: F811
    from tenants.xporter import services

    monkeypatch.setattr(clock, "today", lambda: dt.date(2026, 3, 10))
    services.xporter_file_import(document={"Students": [
        {"Id": "1", "Forename": "A", "Surname": "B", "LeavingDate": None},
        {"Id": "2", "Forename": "C", "Surname": "D", "LeavingDate": "2026-02-01"},
        {"Id": "3", "Forename": "E", "Surname": "F", "LeavingDate": "2026-07-22"}]})
    assert list(Pupil.objects.order_by("xporter_id").values_list("on_roll", flat=True)) == [True, False, True]

    run = services.xporter_file_import(document={"Students": [], "Students_deleted": [{"Id": "1"}, {"Id": "2"}, {"Id": "3"}]})

    assert list(Pupil.objects.order_by("xporter_id").values_list("xporter_id", "on_roll", "leaving_date")) == [
        ("1", False, dt.date(2026, 3, 10)), ("2", False, dt.date(2026, 2, 1)), ("3", False, dt.date(2026, 3, 10))]
    assert run.counts["Students.left"] == 2


@pytest.mark.parametrize("flag", ["processing_restricted", "processing_objected"])
def test_a_restricted_or_objecting_pupil_is_neither_marked_a_leaver_nor_planned_for_deletion(oakfield, monkeypatch, flag):
    from orchestration.tasks import pupils_leavers_daily

    with schema_context(oakfield.school.schema_name):
        held, other = Pupil.objects.filter(on_roll=True).order_by("pk")[:2]
        Pupil.objects.filter(pk__in=[held.pk, other.pk]).update(leaving_date=dt.date(2026, 7, 22))
        Pupil.objects.filter(pk=held.pk).update(**{flag: True})
    monkeypatch.setattr(clock, "today", lambda: dt.date(2026, 7, 23))

    pupils_leavers_daily.fn()

    with schema_context(oakfield.school.schema_name):
        assert Pupil.objects.get(pk=held.pk).on_roll is True
        assert Pupil.objects.get(pk=other.pk).on_roll is False
    marked = ChangeLogEntry.objects.filter(object_schema=oakfield.school.schema_name, object_type="pupils.Pupil",
                                           actor_kind="system", action="update", fields=["on_roll"])
    assert (marked.filter(object_id=str(other.pk)).count(), marked.filter(object_id=str(held.pk)).count()) == (1, 0)
    with schema_context(oakfield.school.schema_name):
        Pupil.objects.filter(pk=held.pk).update(on_roll=False)  # left before the flag was set
    keys = {record.key for record in school_units_collect(oakfield.school)}
    assert f"school:{oakfield.school.pk}:pupil:{other.pk}" in keys
    assert f"school:{oakfield.school.pk}:pupil:{held.pk}" not in keys
