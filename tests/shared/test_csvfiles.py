"""Every CSV file the product hands out neutralises cells a spreadsheet would run as a formula
(OWASP's CSV-injection rule); numbers written as numbers stay numbers."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from orchestration.school_export import school_export
from shared.changes import Actor
from shared.compliance import processing
from shared.csvfiles import SafeDictWriter, csv_safe, csv_writer
from shared.privacy.exports.records import export_zip
from shared.schools.models import School

DANGEROUS = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"]
NEUTRALISED = ['\'=HYPERLINK("http://x")', "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx"]


def test_text_starting_like_a_formula_gets_a_leading_quote():
    assert [csv_safe(value) for value in DANGEROUS] == NEUTRALISED


def test_ordinary_text_and_typed_numbers_are_left_alone():
    assert [csv_safe(v) for v in ["Oakfield", "a=b", "", None, -2, -2.5, Decimal("-3.10"), 0, True]] == \
        ["Oakfield", "a=b", "", None, -2, -2.5, Decimal("-3.10"), 0, True]


def test_the_writers_neutralise_every_cell():
    out = io.StringIO()
    csv_writer(out).writerow(DANGEROUS + [-2])
    dict_out = io.StringIO()
    writer = SafeDictWriter(dict_out, fieldnames=["=name", "n"])
    writer.writeheader()
    writer.writerow({"=name": "@x", "n": -1})

    assert list(csv.reader(io.StringIO(out.getvalue()))) == [NEUTRALISED + ["-2"]]
    assert list(csv.reader(io.StringIO(dict_out.getvalue()))) == [["'=name", "n"], ["'@x", "-1"]]


def test_an_access_export_neutralises_its_csv_cells():
    document = {"records": {"pupils.Pupil": [{"id": 7, "forename": value, "marks": [value, "ok"]} for value in DANGEROUS]}}

    archive = zipfile.ZipFile(io.BytesIO(export_zip(document, "readme")))

    rows = list(csv.DictReader(io.StringIO(archive.read("pupils_pupil.csv").decode())))
    assert [row["forename"] for row in rows] == NEUTRALISED
    assert [row["marks"] for row in rows] == ["'" + value + " ok" for value in DANGEROUS]
    assert [row["id"] for row in rows] == ["7"] * 6


@pytest.mark.django_db
def test_the_data_return_export_neutralises_its_csv_cells(oakfield):
    from shared.operators.models import Operator
    from tenants.pupils.models import Pupil

    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.order_by("pk").first()
        Pupil.objects.filter(pk=pupil.pk).update(forename='=HYPERLINK("http://x")', surname="-2")
    actor = Actor.operator(Operator.objects.first().user)

    archive = zipfile.ZipFile(io.BytesIO(school_export(actor=actor, school=oakfield.school)))

    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(archive.read("pupils_pupil.csv").decode()))}
    assert (rows[str(pupil.pk)]["forename"], rows[str(pupil.pk)]["surname"]) == ('\'=HYPERLINK("http://x")', "'-2")


@pytest.mark.django_db
def test_the_record_of_processing_neutralises_its_csv_cells(oakfield):
    School.objects.filter(pk=oakfield.school.pk).update(name='=HYPERLINK("http://x")')

    rows = list(csv.DictReader(io.StringIO(processing.record_csv())))

    controllers = {row["controller"] for row in rows}
    assert '\'=HYPERLINK("http://x")' in controllers
    assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for value in row.values())
