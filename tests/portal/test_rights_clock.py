"""The school's request page shows why the clock waits (identity, clarification, a fee) and keeps
the fee rules: a fee without its ground is refused and changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from tenants.pupils.models import Pupil
from tenants.rights.models import SchoolRequest
from tests.portal.test_rights_pages import recorded, signed_in

pytestmark = pytest.mark.django_db


def test_a_school_asks_for_a_fee_only_with_its_ground_and_sees_why_the_clock_waits(oakfield, password):
    admin = signed_in(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.first()
    request_id = recorded(admin, "access", pupil, received_on="2026-11-02")

    page = admin.post(f"/rights/{request_id}/", {"action": "ask_fee", "fee_reason": "", "fee_amount": "10"},
                      follow=True).content.decode()

    assert "Access is free" in page
    with schema_context(oakfield.school.schema_name):
        fresh = SchoolRequest.objects.get(pk=request_id)
        assert (fresh.state, fresh.fee_reason, fresh.fee_amount, fresh.pause_reason) == ("received", "", None, "")

    page = admin.post(f"/rights/{request_id}/", {"action": "ask_fee", "fee_reason": "further_copies", "fee_amount": "5.00"},
                      follow=True).content.decode()

    assert "fee of £5.00 asked (further copies (a repeat request))" in page
    assert "the month starts again when it arrives" in page and "Fee received: start" in page
    with schema_context(oakfield.school.schema_name):
        fresh = SchoolRequest.objects.get(pk=request_id)
        assert (fresh.state, fresh.pause_reason, fresh.fee_amount) == ("awaiting_identity", "fee", Decimal("5.00"))


def test_a_school_stops_the_clock_for_clarification(oakfield, password):
    admin = signed_in(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.first()
    request_id = recorded(admin, "access", pupil, received_on="2026-11-02")

    page = admin.post(f"/rights/{request_id}/", {"action": "await_clarification"}, follow=True).content.decode()

    assert "for clarification: the clock is stopped" in page and "Clarification received: start" in page
