"""A pupil's characteristics read as a list in words: joined by separators, never ending in one."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenants.pupils.models import Pupil
from tests.helpers import school_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("flags", "shown"), [
    ({"pupil_premium": True}, "Disadvantaged"),
    ({"pupil_premium": True, "service_child": True}, "Disadvantaged · Service child"),
    ({"looked_after": True, "ever_in_care": True}, "Looked after"),
    ({"ever_in_care": True}, "Previously looked after"),
    ({}, "None recorded"),
])
def test_the_pupil_page_lists_characteristics_without_a_trailing_separator(oakfield, flags, shown):
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.order_by("pk").first()
        cleared = {"pupil_premium": False, "fsm_ever6": False, "fsm": False, "eal": False, "looked_after": False,
                   "ever_in_care": False, "service_child": False}
        Pupil.objects.filter(pk=pupil.pk).update(**(cleared | flags))

    page = school_client(oakfield, oakfield.demo.head_email).get(f"/pupils/{pupil.pk}/").content.decode()

    assert f"<dt>Characteristics</dt><dd>{shown}</dd>" in page
