"""The import history says what changed in words a school admin reads, and a sync whose fetch
failed (an error body, a timeout, a crash, a refused setting) is in it with its reason."""

from __future__ import annotations

import pytest
import requests
from django_tenants.utils import schema_context

from tenants.pupils.models import Pupil
from tenants.xporter import services
from tenants.xporter.client import XporterError
from tenants.xporter.history import import_summary
from tenants.xporter.models import ImportRun, XporterConnection
from tests.portal.test_site import signed_in

pytestmark = pytest.mark.django_db


def test_counts_read_as_words_in_the_tables_order():
    counts = {"AsmResults.created": 40, "AsmResults.unchanged": 900, "Students.created": 12, "Students.left": 3,
              "Students.updated": 1, "Group.house groups, not imported": 2, "Contacts.deleted": 1}

    assert import_summary(counts) == ("12 pupils added, 3 pupils left, 1 pupil updated, 1 parent or carer removed, "
                                      "2 house groups not imported, 40 results recorded")
    assert import_summary({"Students.unchanged": 24}) == "no changes"


class Failing:
    """Xporter as the worker meets it on a bad night."""

    def __init__(self, error: Exception):
        self.error = error

    def fetch(self, endpoint, **kwargs):
        raise self.error


@pytest.mark.parametrize(("error", "reason"), [
    (XporterError("Students: Something went wrong"), "Students: Something went wrong"),
    (requests.Timeout("read timed out"), "Xporter could not be reached (Timeout); nothing was changed."),
    (RuntimeError("boom"), "The import failed on an internal error; nothing was changed."),
])
def test_a_fetch_that_fails_is_a_failed_import_the_admin_sees(oakfield, password, error, reason):
    with schema_context(oakfield.school.schema_name):
        XporterConnection.objects.update_or_create(defaults={"enabled": True, "estab": "1", "relying_party": "r",
                                                             "password": "p"})
        pupils = Pupil.objects.count()
        with pytest.raises(type(error)):
            services.xporter_sync(client=Failing(error))
        run = ImportRun.objects.first()
        assert (run.source, run.status, run.error) == (ImportRun.Source.API, ImportRun.Status.FAILED, reason)
        assert Pupil.objects.count() == pupils

    page = signed_in(oakfield, oakfield.demo.head_email, password).get("/import/").content.decode()
    assert reason.replace("'", "&#x27;") in page


def test_a_setting_the_client_refuses_is_a_failed_import_too(oakfield, settings):
    settings.PRODUCTION = True
    with schema_context(oakfield.school.schema_name):
        XporterConnection.objects.update_or_create(defaults={"enabled": True, "estab": "1", "relying_party": "r",
                                                             "password": "p", "base_url": "http://xporter.example"})
        with pytest.raises(XporterError, match="is not an https:// URL"):
            services.xporter_sync()
        run = ImportRun.objects.first()
        assert run.status == ImportRun.Status.FAILED and "is not an https:// URL" in run.error


def test_the_history_page_says_what_an_upload_changed(oakfield, password):
    head = signed_in(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        services.xporter_file_import(document={"Students": [{"Id": "H1", "Forename": "A", "Surname": "B"},
                                                            {"Id": "H2", "Forename": "C", "Surname": "D"}]})

    assert "2 pupils added" in head.get("/import/").content.decode()
