"""The importer against the reference's own examples (``fixtures/importer``, each naming the
reference section it comes from), not against the fake: documented keys and spellings, keys
matched without regard to case, scope-omitted fields leaving stored values alone, and SEN, FSM and
looked-after status reaching the pupil page and the cohort analysis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from tenants.assessment.models import Aspect, Result, Subject, Target
from tenants.assessment.selectors import cohort_analysis
from tenants.pupils.models import Group, Pupil, PupilParent, SenProvision
from tenants.xporter import services
from tests.portal.test_site import signed_in
from tests.tenants.xporter.test_import import in_school  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures" / "importer"


def documented(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_documented_students_reach_the_pupil_page_and_the_cohort_analysis(oakfield, password):
    with schema_context(oakfield.school.schema_name):
        run = services.xporter_file_import(document={**documented("students_documented.json"),
                                                     **documented("assessment_documented.json")})
        alex, sam = Pupil.objects.get(xporter_id="3116"), Pupil.objects.get(xporter_id="3117")
        subject = Subject.objects.get(name="English Attainment Level")
        rows = cohort_analysis(pupils=Pupil.objects.filter(xporter_id__in=["3116", "3117"]), subject=subject)

    assert (alex.sen_provision, alex.fsm, alex.looked_after, alex.service_child) == (SenProvision.SUPPORT, True, True, False)
    assert (alex.ethnicity_code, alex.first_language, alex.year_group, str(alex.date_of_birth)) == ("ABAN", "ENG", "Year 4", "2009-01-12")
    assert (sam.sen_provision, sam.fsm, sam.looked_after) == (SenProvision.NONE, False, False)  # FsmEligible, any case
    assert [(r.label, r.pupils, r.assessed) for r in rows["SEN"]] == [("No SEN", 1, 0), ("SEN", 1, 1)]
    assert [(r.label, r.pupils) for r in rows["FSM"]] == [("FSM", 1), ("Not FSM", 1)]
    assert [(r.label, r.pupils) for r in rows["Looked after"]] == [("Looked after", 1), ("Not looked after", 1)]
    assert run.counts["Group.house groups, not imported"] == 1
    assert run.counts["Aspects.not graded, not imported"] == 1
    head = signed_in(oakfield, oakfield.demo.head_email, password)
    page = head.get(f"/pupils/{alex.pk}/").content.decode()
    assert "SEN support" in page and "Free school meals" in page and "Looked after" in page


def test_documented_links_groups_and_results_are_read(in_school):  # noqa: F811
    run = services.xporter_file_import(document={**documented("students_documented.json"),
                                                 **documented("assessment_documented.json")})

    link = PupilParent.objects.get(xporter_id="PL-3116.PC-10001")
    assert (link.pupil.xporter_id, link.parent.email, link.relationship, link.priority, link.parental_responsibility) == \
        ("3116", "pat@example.com", "Mother", 2, True)
    year = Group.objects.get(xporter_id="31")
    assert (year.kind, sorted(year.pupils.values_list("xporter_id", flat=True))) == (Group.Kind.YEAR, ["3116", "3117"])
    assert Aspect.objects.get(xporter_id="702").is_headline
    assert sorted(Result.objects.values_list("xporter_id", "grade__label")) == [("1289067", "W"), ("1289068", "6C")]
    assert Target.objects.count() == 0
    assert run.counts["AsmResults.of an aspect that is not graded, not imported"] == 1


def test_an_absent_field_leaves_the_stored_value_and_a_null_clears_it(in_school):  # noqa: F811
    document = documented("students_documented.json")
    services.xporter_file_import(document=document)
    alex = document["Students"][0]
    out_of_scope = {k: v for k, v in alex.items() if k not in ("SENProvision", "FSMEligible", "InLeaCare", "EthnicityCode")}

    services.xporter_file_import(document={"Students": [dict(out_of_scope, RowHash="CHANGED", FirstLanguageCode=None)]})

    pupil = Pupil.objects.get(xporter_id="3116")
    assert (pupil.sen_provision, pupil.fsm, pupil.looked_after, pupil.ethnicity_code) == (SenProvision.SUPPORT, True, True, "ABAN")
    assert pupil.first_language == ""


def test_keys_are_matched_without_regard_to_case(in_school):  # noqa: F811
    services.xporter_file_import(document={"students": [{"ID": "9", "forename": "A", "SURNAME": "B", "fsmeligible": 1,
                                                         "senprovision": "E", "inleacare": 1}]})

    pupil = Pupil.objects.get(xporter_id="9")
    assert (pupil.fsm, pupil.sen_provision, pupil.looked_after) == (True, SenProvision.EHCP, True)


def test_the_importers_former_field_names_do_not_pass(in_school):  # noqa: F811
    services.xporter_file_import(document={"Students": [{"Id": "9", "Forename": "A", "Surname": "B", "FSM": 1,
                                                         "SENStatus": "E", "InCare": 1}]})

    pupil = Pupil.objects.get(xporter_id="9")
    assert (pupil.fsm, pupil.sen_provision, pupil.looked_after) == (False, SenProvision.NONE, False)


def test_ever_in_care_is_kept_apart_from_in_care_and_shown_as_previously_looked_after(oakfield, password):
    students = documented("students_documented.json")
    sam = next(row for row in students["Students"] if row["Id"] == "3117")
    sam.update(InLeaCare=0, EverInCare=1)  # adopted from care: no longer looked after, still counted
    with schema_context(oakfield.school.schema_name):
        services.xporter_file_import(document={**students, **documented("assessment_documented.json")})
        alex, sam = Pupil.objects.get(xporter_id="3116"), Pupil.objects.get(xporter_id="3117")

    assert (alex.looked_after, alex.ever_in_care) == (True, True)
    assert (sam.looked_after, sam.ever_in_care) == (False, True)
    head = signed_in(oakfield, oakfield.demo.head_email, password)
    page = head.get(f"/pupils/{sam.pk}/").content.decode()
    assert "Previously looked after" in page
