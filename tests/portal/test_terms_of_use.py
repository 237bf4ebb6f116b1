"""The Terms of Use on the school site: a school admin is sent to them from every staff page until
the school has accepted the current version (at the first sign-in after onboarding, and again when a
new version is published); the acceptance records who, when, which version and from where, once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from ops.demo import DEMO_PASSWORD, SeededSchool
from orchestration.provisioning import client_onboard
from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.changes import Actor
from shared.compliance import terms_of_use
from shared.compliance.models import TermsAcceptance, TermsVersion
from shared.operators.models import Operator
from shared.schools.selectors import school_hostname
from tenants.users.models import User
from tests.helpers import console_client, form_token, school_client

pytestmark = pytest.mark.django_db
MOMENT = timezone.make_aware(dt.datetime(2026, 11, 20, 9, 30))
STAFF_PAGES = ["/", "/pupils/", "/analysis/", "/users/", "/import/", "/retention/", "/settings/", "/rights/",
               "/support/", "/rights/consents/"]


def _operator() -> Actor:
    return Actor.operator(Operator.objects.get(role=Operator.Role.ADMINISTRATOR).user)


def _not_accepted(school: SeededSchool) -> None:
    """As if the school had never accepted: its acceptances are gone (rolled back after the test)."""
    TermsAcceptance.objects.filter(school=school.school).delete()


def _acceptances(school: SeededSchool) -> list[TermsAcceptance]:
    return list(TermsAcceptance.objects.filter(school=school.school).select_related("terms"))


def _terms_log() -> int:
    return ChangeLogEntry.objects.filter(object_type="compliance.termsacceptance").count()


def _accept(client, *, name: str = "Helen Morris", version: int | None = None, **extra):
    page = client.get("/terms/")
    return client.post("/terms/", {"form_token": form_token(page), "name": name,
                                   "version": version if version is not None else terms_of_use.terms_current().pk},
                       **extra)


def _version_2() -> TermsVersion:
    current = terms_of_use.terms_current()
    return terms_of_use.terms_version_publish(
        actor=_operator(), version="2", summary="Adds a second hosting site in the United Kingdom.",
        text=current.text + "\n\nOur backups are also held at a second site in the United Kingdom.")


@pytest.fixture
def onboarded(django_db_setup) -> SeededSchool:
    """A school just signed up in the console, whose admin has set a password and enrolled an
    authenticator: nobody has accepted anything for it."""
    school = client_onboard(actor=_operator(), name="Elm Tree Infants", subdomain="elmtree",
                            admin_email="head@elmtree.example", contract_starts_on=dt.date(2026, 9, 1)).school
    with schema_context(school.schema_name):
        head = User.objects.get(email="head@elmtree.example")
        head.full_name = "Ruth Ade"
        head.set_password(DEMO_PASSWORD)
        head.save()
        TOTPDevice.objects.create(user=head, name="Authenticator app", confirmed=True)
    return SeededSchool(demo=None, school=school, hostname=school_hostname(subdomain="elmtree"))


def test_the_first_sign_in_after_onboarding_sends_the_admin_to_the_terms_from_every_staff_page(onboarded):
    client = school_client(onboarded, "head@elmtree.example")

    for path in STAFF_PAGES:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/terms/", path
    page = client.get("/terms/")
    assert page.status_code == 200
    assert b"has not been accepted for Elm Tree Infants yet" in page.content
    assert b"Processing only on the school&#x27;s documented instructions" in page.content
    assert b'value="Ruth Ade"' in page.content  # the name, to confirm or correct
    assert TermsAcceptance.objects.filter(school=onboarded.school).count() == 0


def test_the_admin_can_still_read_the_notice_enrol_and_sign_out_first(onboarded):
    client = school_client(onboarded, "head@elmtree.example")

    assert client.get("/privacy/").status_code == 200
    assert client.get("/accounts/two-step/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and not response["Location"].endswith("/terms/")


def test_accepting_records_who_when_which_version_and_from_where_and_opens_the_site(onboarded, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: MOMENT)
    client = school_client(onboarded, "head@elmtree.example", REMOTE_ADDR="203.0.113.7")
    logged = _terms_log()

    response = _accept(client, name="  Ruth   Ade ")

    assert response.status_code == 302 and response["Location"] == "/"
    [acceptance] = _acceptances(onboarded)
    with schema_context(onboarded.school.schema_name):
        head = User.objects.get(email="head@elmtree.example")
    assert (acceptance.terms.version, acceptance.user_id, acceptance.user_name, acceptance.user_email,
            acceptance.accepted_at, acceptance.ip_address) == \
        ("1", head.pk, "Ruth Ade", "head@elmtree.example", MOMENT, "203.0.113.7")
    entry = ChangeLogEntry.objects.filter(object_type="compliance.termsacceptance").latest("id")
    assert _terms_log() == logged + 1
    assert (entry.actor_kind, entry.actor_id, entry.actor_schema, entry.object_id) == \
        ("school_user", head.pk, onboarded.school.schema_name, str(acceptance.pk))
    assert "Ruth Ade" not in str(entry.fields)  # field names, never values
    for path in STAFF_PAGES:
        assert client.get(path).status_code == 200, path


def test_a_double_submit_makes_one_record(onboarded):
    client = school_client(onboarded, "head@elmtree.example")
    page = client.get("/terms/")
    data = {"name": "Ruth Ade", "version": terms_of_use.terms_current().pk}

    first = client.post("/terms/", {**data, "form_token": form_token(page)})
    again_same_form = client.post("/terms/", {**data, "form_token": form_token(page)})
    again_new_form = client.post("/terms/", data)  # another tab: a fresh token, the same acceptance

    assert first.status_code == 302
    assert again_same_form.status_code in (302, 409)
    assert again_new_form.status_code in (200, 302)
    assert len(_acceptances(onboarded)) == 1 and _terms_log() >= 1


def test_teachers_parents_and_pupils_are_not_stopped(oakfield, password):
    _not_accepted(oakfield)
    for email, path in [(oakfield.demo.teacher_email, "/pupils/"), (oakfield.demo.parent_email, "/"),
                        (oakfield.demo.pupil_email, "/")]:
        client = school_client(oakfield, email, password)
        response = client.get(path)
        assert response.status_code in (200, 302) and response.get("Location") != "/terms/", email


def test_a_teacher_reads_the_terms_but_cannot_accept_them(oakfield, password):
    _not_accepted(oakfield)
    client = school_client(oakfield, oakfield.demo.teacher_email, password)

    page = client.get("/terms/")
    response = client.post("/terms/", {"name": "Jaya Patel", "version": terms_of_use.terms_current().pk})

    assert page.status_code == 200 and b"A school admin accepts it for the school" in page.content
    assert b'name="name"' not in page.content
    assert response.status_code == 403 and _acceptances(oakfield) == []


def test_a_new_version_sends_the_admin_back_until_they_accept_it(oakfield, password):
    client = school_client(oakfield, oakfield.demo.head_email, password)
    assert client.get("/pupils/").status_code == 200  # version 1 accepted at onboarding (the demo's)

    _version_2()

    response = client.get("/pupils/")
    assert response.status_code == 302 and response["Location"] == "/terms/"
    page = client.get("/terms/")
    assert b"The school accepted version 1" in page.content
    assert b"Adds a second hosting site in the United Kingdom." in page.content
    assert _accept(client, name="Head of Oakfield Primary").status_code == 302
    assert client.get("/pupils/").status_code == 200
    assert [a.terms.version for a in _acceptances(oakfield)] == ["2", "1"]


def test_one_schools_acceptance_does_not_count_for_another(oakfield, riverside, password):
    _not_accepted(oakfield)
    _not_accepted(riverside)
    oak = school_client(oakfield, oakfield.demo.head_email, password)
    river = school_client(riverside, riverside.demo.head_email, password)

    assert _accept(oak, name="Head of Oakfield Primary").status_code == 302

    assert oak.get("/pupils/").status_code == 200
    assert river.get("/pupils/")["Location"] == "/terms/"
    assert len(_acceptances(oakfield)) == 1 and _acceptances(riverside) == []
    # Riverside's page does not show Oakfield's acceptance
    assert b"Head of Oakfield" not in river.get("/terms/").content


@pytest.mark.parametrize("version", ["old", "unknown", "malformed"])
def test_accepting_a_version_that_is_not_current_is_refused_and_changes_nothing(oakfield, password, version):
    client = school_client(oakfield, oakfield.demo.head_email, password)
    old = terms_of_use.terms_current()
    _version_2()
    page = client.get("/terms/")
    before, logged, versions = _acceptances(oakfield), ChangeLogEntry.objects.count(), TermsVersion.objects.count()
    value = {"old": old.pk, "unknown": 999999, "malformed": "1; DROP TABLE"}[version]

    response = client.post("/terms/", {"form_token": form_token(page), "name": "Head", "version": value})

    assert response.status_code == 400
    if version != "malformed":
        assert b"These are not the current terms" in response.content
    assert _acceptances(oakfield) == before and ChangeLogEntry.objects.count() == logged
    assert TermsVersion.objects.count() == versions
    assert client.get("/pupils/")["Location"] == "/terms/"


def test_accepting_without_a_name_is_refused(oakfield, password):
    _not_accepted(oakfield)
    client = school_client(oakfield, oakfield.demo.head_email, password)

    response = _accept(client, name="   ")

    assert response.status_code == 400 and b"Give your name" in response.content
    assert _acceptances(oakfield) == []


def test_the_console_is_not_gated(oakfield):
    _not_accepted(oakfield)

    assert console_client(Operator.Role.SUPPORT).get(f"/console/clients/{oakfield.school.pk}/").status_code == 200
