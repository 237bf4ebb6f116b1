"""Small things a new user notices: the invitation form starts at Teacher, not School admin, and
every page names its icon (no 404 for a missing favicon)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from tests.helpers import host_client, school_client

pytestmark = pytest.mark.django_db


def test_the_invitation_form_starts_at_teacher(oakfield):
    page = school_client(oakfield, oakfield.demo.head_email).get("/users/").content.decode()

    assert '<option value="teacher" selected>Teacher</option>' in page
    assert '<option value="school_admin" selected>' not in page


def test_every_site_names_an_icon_that_exists(oakfield):
    pages = [host_client(settings.BASE_DOMAIN).get("/console/login/"), host_client(oakfield.hostname).get("/accounts/login/")]

    for response in pages:
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in response.content.decode()
    assert finders.find("favicon.svg")
