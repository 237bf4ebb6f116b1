"""The record of processing: generated from the registry and the notice's purposes, it covers every
category and every purpose, has a processor record per school, and its CSV parses."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from shared.compliance import processing
from shared.privacy.retention.registry import REGISTRY, RULES, Category

pytestmark = pytest.mark.django_db
REPO_ROOT = Path(__file__).resolve().parents[3]
NOTICE = REPO_ROOT / "shared" / "compliance" / "notice" / "privacy-notice-v1.txt"
EXPECTED_HEADER = ["role", "controller", "purpose", "notice_data_types", "lawful_basis", "data_category",
                   "category_lawful_basis", "data_subjects", "personal_data_fields", "retention", "recipients",
                   "sub_processors", "transfers_outside_uk", "security_measures", "source"]


def parsed_csv() -> list[dict]:
    rows = list(csv.reader(io.StringIO(processing.record_csv())))
    assert rows[0] == EXPECTED_HEADER
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_every_registry_category_has_a_purpose():
    rows = processing.controller_rows()

    assert {row.category for row in rows} == set(Category)
    assert [row for row in rows if row.purpose.startswith("No purpose recorded")] == []


def test_every_purpose_is_in_the_record():
    rows = processing.controller_rows()

    assert {row.purpose for row in rows} == {purpose.activity for purpose in processing.PURPOSES}


def test_the_purposes_table_is_the_notices_word_for_word():
    notice = re.sub(r"\s+", " ", NOTICE.read_text(encoding="utf-8"))
    table = [p for p in processing.PURPOSES if p.in_notice_table]

    assert len(table) == 6
    for purpose in table:
        assert purpose.activity in notice
        for data_type in purpose.notice_data_types:
            assert data_type in notice


def test_fields_and_retention_come_from_the_registry():
    rows = {row.category: row for row in processing.controller_rows()}

    assert rows[Category.TAX].retention.startswith(RULES[Category.TAX].kept_for)
    assert "marketing.Prospect: " in " ".join(rows[Category.MARKETING].personal_data_fields)
    assert all(f"{label}: " in " ".join(rows[policy.category].personal_data_fields)
               for label, policy in REGISTRY.items() if policy.personal)


def test_pupil_data_is_recorded_as_the_schools_not_ours():
    pupil_rows = [row for row in processing.controller_rows() if row.category == Category.PUPIL]

    assert pupil_rows and all(row.role == "processor" for row in pupil_rows)


def test_every_row_states_no_transfer_outside_the_uk_and_every_security_measure():
    """The record says the same in every row. That the measures hold is shown where they act, not by
    reading these strings back: TLS in tests/ops/test_nginx.py and tests/shared/test_outgoing.py,
    sign-in in tests/console/test_access.py and tests/portal/test_signin.py (see
    shared/compliance/notice/promises.md)."""
    rows = processing.controller_rows()
    measures = tuple(f"{m.measure} ({m.source})" for m in processing.SECURITY_MEASURES)

    assert {row.transfers_outside_uk for row in rows} == {processing.TRANSFERS}
    assert {row.security_measures for row in rows} == {measures}


def test_a_processor_record_per_school(oakfield, riverside):
    records = {record.school_name: record for record in processing.processor_records()}

    assert {"Oakfield Primary", "Riverside Academy"} <= set(records)
    for name in ("Oakfield Primary", "Riverside Academy"):
        rows = records[name].rows
        assert {row.controller for row in rows} == {name}
        assert {row.role for row in rows} == {"processor"}
        assert Category.PUPIL in {row.category for row in rows}
        fields = [field for row in rows for field in row.personal_data_fields]
        assert any(field.startswith("pupils.Pupil: ") for field in fields)
        assert not any(field.startswith(("billing.", "marketing.", "clients.", "compliance.")) for field in fields)
        assert any("Rackspace" in s for row in rows for s in row.sub_processors)


def test_the_csv_parses_with_the_expected_header_one_row_per_purpose_and_category(oakfield, riverside):
    rows = parsed_csv()

    controller = [r for r in rows if r["controller"] in ("Pupil Tracking Ltd", "The client school")]
    assert len(controller) == len(processing.controller_rows())
    assert {r["data_category"] for r in controller} == {processing.CATEGORY_LABELS[c] for c in Category}
    per_school = {name: [r for r in rows if r["controller"] == name]
                  for name in ("Oakfield Primary", "Riverside Academy")}
    assert all(len(school_rows) == len(next(iter(per_school.values()))) > 0 for school_rows in per_school.values())
    assert all(r["role"] == "processor" for school_rows in per_school.values() for r in school_rows)


def test_each_schools_processor_record_lists_the_automated_processes_with_its_own_last_runs(oakfield, riverside,
                                                                                           monkeypatch):
    import datetime as dt

    from orchestration.tasks import retention_school
    from shared import automation, clock

    now = dt.datetime(2027, 3, 1, 2, 0, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(clock, "now", lambda: now)
    retention_school.fn(oakfield.school.pk, now.date().isoformat())

    records = {record.school_id: record for record in processing.processor_records()}

    for school in (oakfield, riverside):
        listed = [item.declaration.name for item in records[school.school.pk].automated]
        assert listed == [d.name for d in automation.school_processes()]
        assert {"retention_school", "pupils_leavers_daily", "xporter_sync_school"} <= set(listed)
    oakfield_run = {i.declaration.name: i.run for i in records[oakfield.school.pk].automated}["retention_school"]
    riverside_run = {i.declaration.name: i.run for i in records[riverside.school.pk].automated}["retention_school"]
    assert (oakfield_run.school_id, oakfield_run.started_at, oakfield_run.outcome) == (oakfield.school.pk, now,
                                                                                       "succeeded")
    assert riverside_run is None
