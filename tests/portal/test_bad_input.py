"""Malformed ids, dates and NUL characters in what the school site and the console read from a
request are a 400 (never a 500), and nothing is saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django_tenants.utils import schema_context

from shared import clock
from shared.operators.models import Operator
from tenants.assessment.models import Result
from tests.helpers import console_client
from tests.portal.test_site import marksheet_setup, signed_in

pytestmark = pytest.mark.django_db


def results(school) -> int:
    with schema_context(school.school.schema_name):
        return Result.objects.count()


@pytest.mark.parametrize("query", ["date=2025-02-30", "date=9999-12-31", "date=1989-12-31", "aspect=abc", "aspect=%C2%B2",
                                   "aspect=1%00", "date=%00", "aspect=99999999999999999999"])
def test_a_marksheet_with_a_malformed_query_is_a_400_and_saves_nothing(oakfield, password, query):
    client = signed_in(oakfield, oakfield.demo.teacher_email, password)
    group, aspect, pupils, grades = marksheet_setup(oakfield)
    before = results(oakfield)

    shown = client.get(f"/groups/{group.pk}/marksheet/?{query}")
    posted = client.post(f"/groups/{group.pk}/marksheet/?{query}", {f"pupil-{pupils[0].pk}": grades[0].pk})

    assert (shown.status_code, posted.status_code) == (400, 400)
    assert results(oakfield) == before


@pytest.mark.parametrize("field", [("date", "2025-02-30"), ("aspect", "x1"), ("pupil-abc", "1"), ("pupil-1x", "1"),
                                   ("grade", None)])
def test_a_marksheet_post_with_a_malformed_field_is_a_400_and_saves_nothing(oakfield, password, field):
    client = signed_in(oakfield, oakfield.demo.teacher_email, password)
    group, aspect, pupils, grades = marksheet_setup(oakfield)
    name, value = field
    data = {"aspect": aspect.pk, "date": (clock.today() - dt.timedelta(days=1)).isoformat(),
            **{f"pupil-{p.pk}": grades[0].pk for p in pupils}}
    if name == "grade":
        data[f"pupil-{pupils[0].pk}"] = "A*"
    else:
        data[name] = value
    before = results(oakfield)

    response = client.post(f"/groups/{group.pk}/marksheet/", data)

    assert response.status_code == 400
    assert results(oakfield) == before


def test_the_marksheet_service_refuses_a_date_out_of_range(oakfield):
    from django.core.exceptions import ValidationError

    from tenants.assessment.services import marksheet_save
    from tenants.users.models import User

    group, aspect, pupils, grades = marksheet_setup(oakfield)
    before = results(oakfield)
    with schema_context(oakfield.school.schema_name):
        teacher = User.objects.get(email=oakfield.demo.teacher_email)
        with pytest.raises(ValidationError) as refused:
            marksheet_save(user=teacher, group=group, aspect=aspect, recorded_on=dt.date(9999, 12, 31),
                           grades={pupils[0].pk: grades[0].pk})

    assert set(refused.value.message_dict) == {"recorded_on"}
    assert results(oakfield) == before


@pytest.mark.parametrize("path", ["/analysis/?subject=abc", "/pupils/?q=%00", "/pupils/?page=%00", "/?x=%00"])
def test_other_school_pages_refuse_a_malformed_query_with_a_400(oakfield, password, path):
    client = signed_in(oakfield, oakfield.demo.head_email, password)

    assert client.get(path).status_code == 400


@pytest.mark.parametrize("path", ["/console/technical/changes/?actor_id=%C2%B2", "/console/clients/?q=%00",
                                  "/console/technical/changes/?object_type=%00"])
def test_console_pages_refuse_a_malformed_query_with_a_400(path):
    client = console_client(Operator.Role.ADMINISTRATOR)

    assert client.get(path).status_code == 400
