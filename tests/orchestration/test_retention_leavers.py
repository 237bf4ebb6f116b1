"""On roll until the leaving date, every day: the daily job makes a pupil whose leaving date has
passed a leaver, without an import, and retention's grace period runs from that date."""

from __future__ import annotations

import datetime as dt

import pytest
from django_tenants.utils import schema_context

from shared import clock
from tenants.pupils.models import Pupil

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
