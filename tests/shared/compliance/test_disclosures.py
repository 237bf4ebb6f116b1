"""The disclosure register: only the privacy notice's grounds, and a refused entry writes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.compliance import disclosures
from shared.compliance.models import Disclosure, DisclosureGround

pytestmark = pytest.mark.django_db
NOTICE = Path(__file__).resolve().parents[3] / "shared" / "compliance" / "notice" / "privacy-notice-v1.txt"

# Each ground, and the words of the notice's "Sharing your information" that allow it.
NOTICE_WORDING = {
    "legal_obligation": "comply with any legal obligation (for example, if required to do so by a court order",
    "enforce_terms": "in order to enforce any terms and conditions or agreements for our Services",
    "sale_restructuring": "as part of a sale of some or all of our business and assets",
    "protect_rights": "to protect the rights, property, or safety of Pupil Tracking Ltd",
    "permission": "we shall not disclose any of your personal information unless you give us permission to do so",
}


def record(actor, **overrides):
    data = {"recipient": "Thames Valley Police, DC Jo Bloggs", "disclosed_at": clock.now(),
            "ground": "legal_obligation", "data_categories": ["technical"],
            "description": "IP addresses of sign-ins to one account on 3 March",
            "authorised_by": "Dan Protection (DPO)",
            "references": "Production order 2027/114, kept in the legal folder", **overrides}
    return disclosures.disclosure_record(actor=actor, **data)


def test_the_grounds_are_exactly_the_notices():
    notice = re.sub(r"\s+", " ", NOTICE.read_text(encoding="utf-8"))

    assert set(DisclosureGround.values) == set(NOTICE_WORDING)
    for wording in NOTICE_WORDING.values():
        assert wording in notice


@pytest.mark.parametrize("ground", sorted(NOTICE_WORDING))
def test_a_disclosure_on_each_of_the_notices_grounds_is_recorded(actor, ground):
    before = Disclosure.objects.count()

    disclosure = record(actor, ground=ground)

    assert Disclosure.objects.count() == before + 1
    assert Disclosure.objects.get(pk=disclosure.pk).ground == ground


@pytest.mark.parametrize("ground", ["legitimate_interests", "marketing", "consent", ""])
def test_a_ground_the_notice_does_not_list_is_refused_and_writes_nothing(actor, ground):
    before = Disclosure.objects.count(), ChangeLogEntry.objects.filter(object_type="compliance.disclosure").count()

    with pytest.raises(ValidationError) as refused:
        record(actor, ground=ground)

    assert "ground" in refused.value.message_dict
    assert (Disclosure.objects.count(),
            ChangeLogEntry.objects.filter(object_type="compliance.disclosure").count()) == before


def test_the_database_refuses_another_ground_too(actor):
    disclosure = record(actor)

    with pytest.raises(IntegrityError), transaction.atomic():
        Disclosure.objects.filter(pk=disclosure.pk).update(ground="marketing")


def test_a_disclosure_is_recorded_with_its_schools_and_change_logged(actor, oakfield):
    disclosure = record(actor, schools=[oakfield.school], people="Two named parents")

    assert list(disclosure.schools.all()) == [oakfield.school]
    entry = ChangeLogEntry.objects.get(object_type="compliance.disclosure", object_id=str(disclosure.pk))
    assert {"ground", "recipient", "authorised_by", "schools", "references"} <= set(entry.fields)


def test_a_disclosure_with_permission_says_where_the_permission_is(actor):
    with pytest.raises(ValidationError) as refused:
        record(actor, ground="permission", references="")

    assert "references" in refused.value.message_dict


def test_a_disclosure_needs_its_recipient_description_and_authoriser(actor):
    with pytest.raises(ValidationError) as refused:
        record(actor, recipient=" ", description="", authorised_by="")

    assert set(refused.value.message_dict) == {"recipient", "description", "authorised_by"}
