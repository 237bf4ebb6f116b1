"""A NUL character anywhere in a request's address or form is refused with a 400 page that says why,
before any view runs (PostgreSQL cannot hold one in text: it used to be a 500)."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenants.users.models import User
from tests.helpers import host_client, rows_written


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/privacy/versions/1%00/", "/privacy/?q=a%00b", "/privacy/?a%00=b"])
def test_nul_in_the_address_is_a_bad_request_with_a_reason(oakfield, path):
    response = host_client(oakfield.hostname).get(path)

    assert response.status_code == 400
    assert b"not allowed (NUL)" in response.content
    assert b"Oakfield" in response.content or b"Pupil Tracking" in response.content


@pytest.mark.django_db
def test_nul_in_a_form_is_refused_and_writes_nothing(oakfield):
    client = host_client(oakfield.hostname)
    with schema_context(oakfield.school.schema_name):
        client.force_login(User.objects.get(email=oakfield.demo.head_email))
    before = rows_written()

    response = client.post("/rights/consents/", {"purpose": "photos\x00", "person": "pupil:1"})

    assert response.status_code == 400
    assert b"The form holds a character that is not allowed (NUL)." in response.content
    assert rows_written() == before


@pytest.mark.django_db
def test_an_ordinary_address_still_works(oakfield):
    assert host_client(oakfield.hostname).get("/privacy/?q=ab").status_code == 200
