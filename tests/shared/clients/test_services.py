"""Client records: onboarding, cancellation and its undo, correspondence and complaints."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from orchestration import provisioning
from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.changes import Actor
from shared.clients import services
from shared.clients.models import ClientAccount, Complaint, Contact, Contract, Correspondence
from shared.clients.selectors import current_contract
from shared.operators.models import Operator
from shared.schools.models import School
from tests.helpers import host_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor() -> Actor:
    return Actor.operator(Operator.objects.get(role=Operator.Role.ADMINISTRATOR).user)


def counts() -> dict:
    return {model.__name__: model.objects.count()
            for model in (School, Contract, Contact, ClientAccount, Correspondence, Complaint, ChangeLogEntry)}


def onboard(actor, **overrides):
    data = dict(name="Elm Tree Infants", subdomain="elmtree", admin_email="head@elmtree.example",
                contract_starts_on=dt.date(2026, 9, 1), contact_name="Ruth Ade", contact_role="Office manager",
                contact_email="Office@ElmTree.example", contact_phone="01632 960111")
    return provisioning.client_onboard(actor=actor, **{**data, **overrides})


def test_onboarding_records_school_contract_contact_and_account(actor):
    school = onboard(actor).school

    contract = current_contract(school)
    assert (contract.status, contract.starts_on, contract.ends_on) == (Contract.Status.ACTIVE, dt.date(2026, 9, 1), None)
    assert list(school.contacts.values_list("full_name", "email", "is_primary")) == [("Ruth Ade", "office@elmtree.example", True)]
    assert list(school.client_accounts.values_list("email", flat=True)) == ["head@elmtree.example"]
    logged = set(ChangeLogEntry.objects.filter(actor_id=actor.user_id).values_list("object_type", "action"))
    assert {("schools.school", "create"), ("clients.contract", "create"), ("clients.contact", "create"),
            ("clients.clientaccount", "create")} <= logged


@pytest.mark.parametrize(("overrides", "field"), [
    ({"contract_ends_on": dt.date(2026, 8, 31)}, "ends_on"),
    ({"subdomain": "www"}, "subdomain"),
    ({"subdomain": "oakfield"}, "subdomain"),
    ({"admin_email": "not an email"}, "admin_email"),
    ({"contact_email": "nope"}, "email"),
])
def test_refused_onboarding_saves_nothing(actor, oakfield, overrides, field):
    before = counts()

    with pytest.raises(ValidationError) as error:
        onboard(actor, **overrides)

    assert field in error.value.message_dict
    assert counts() == before


def on_day(monkeypatch, day: dt.date) -> None:
    moment = dt.datetime.combine(day, dt.time(12), dt.timezone.utc)
    monkeypatch.setattr(clock, "now", lambda: moment)


def test_cancelling_sets_the_retention_dates_and_deletes_nothing(actor, monkeypatch):
    school = onboard(actor).school
    contract = current_contract(school)
    on_day(monkeypatch, dt.date(2027, 9, 1))  # the cancellation date has come: the site closes at once

    services.contract_cancel(actor=actor, contract=contract, cancelled_on=dt.date(2027, 8, 31), reason="Joined a trust")

    contract.refresh_from_db()
    school.refresh_from_db()
    assert contract.status == Contract.Status.CANCELLED
    assert contract.config_files_delete_on == dt.date(2027, 11, 30)  # 31 Nov does not exist
    assert contract.schema_drop_on == dt.date(2028, 2, 29)  # nor 31 Feb; 2028 is a leap year
    assert school.status == School.Status.CANCELLED and school.cancelled_at is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [school.schema_name])
        assert cursor.fetchone()[0] == 1
    assert school.contacts.count() == 1 and school.client_accounts.count() == 1


def test_a_cancellation_can_be_undone_before_the_end_date(actor):
    school = onboard(actor, contract_ends_on=dt.date(2027, 8, 31)).school
    contract = services.contract_cancel(actor=actor, contract=current_contract(school), cancelled_on=dt.date(2027, 3, 1))

    services.contract_cancellation_undo(actor=actor, contract=contract, today=dt.date(2027, 8, 31))

    contract.refresh_from_db()
    school.refresh_from_db()
    assert (contract.status, contract.cancelled_on, contract.config_files_delete_on, contract.schema_drop_on) == (
        Contract.Status.ACTIVE, None, None, None)
    assert school.status == School.Status.ACTIVE


def test_undo_after_the_end_date_is_refused_and_changes_nothing(actor):
    school = onboard(actor, contract_ends_on=dt.date(2027, 8, 31)).school
    contract = services.contract_cancel(actor=actor, contract=current_contract(school), cancelled_on=dt.date(2027, 3, 1))

    with pytest.raises(ValidationError, match="can no longer be undone"):
        services.contract_cancellation_undo(actor=actor, contract=contract, today=dt.date(2027, 9, 1))

    contract.refresh_from_db()
    assert contract.status == Contract.Status.CANCELLED
    assert contract.schema_drop_on == dt.date(2027, 9, 1)


def test_cancelling_before_the_start_is_refused(actor):
    school = onboard(actor).school
    before = counts()

    with pytest.raises(ValidationError) as error:
        services.contract_cancel(actor=actor, contract=current_contract(school), cancelled_on=dt.date(2026, 8, 1))

    assert "cancelled_on" in error.value.message_dict
    assert current_contract(school).status == Contract.Status.ACTIVE
    assert counts() == before


def test_correspondence_keeps_the_contacts_last_interaction(actor, oakfield):
    contact = oakfield.school.contacts.first()
    contact.last_interaction_at = clock.now() - dt.timedelta(days=60)
    contact.save()
    when = (clock.now() - dt.timedelta(days=1)).replace(microsecond=0)

    services.correspondence_record(actor=actor, school=oakfield.school, contact=contact, direction="out",
                                   channel="phone", subject="Renewal call", occurred_at=when)

    contact.refresh_from_db()
    assert contact.last_interaction_at == when


def test_correspondence_with_another_schools_contact_is_refused(actor, oakfield, riverside):
    before = counts()

    with pytest.raises(ValidationError):
        services.correspondence_record(actor=actor, school=oakfield.school, contact=riverside.school.contacts.first(),
                                       direction="in", channel="email", subject="Mixed up")

    assert counts() == before


def test_resolving_a_complaint_needs_a_resolution(actor, oakfield):
    complaint = services.complaint_record(actor=actor, school=oakfield.school, summary="Login page slow")

    with pytest.raises(ValidationError):
        services.complaint_status_set(actor=actor, complaint=complaint, status=Complaint.Status.RESOLVED)
    services.complaint_status_set(actor=actor, complaint=complaint, status=Complaint.Status.RESOLVED,
                                  resolution="Index added")

    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.RESOLVED and complaint.resolved_at is not None


@pytest.mark.parametrize(("today", "site_open"), [
    (dt.date(2026, 12, 1), True),  # the day it is recorded
    (dt.date(2027, 8, 30), True),  # the day before
    (dt.date(2027, 8, 31), False),  # the cancellation date
    (dt.date(2027, 9, 1), False),  # a job missed on the day closes it the next
])
def test_a_cancellation_recorded_ahead_closes_the_site_on_its_date(actor, monkeypatch, today, site_open):
    provisioned = onboard(actor)
    school = provisioned.school
    on_day(monkeypatch, dt.date(2026, 12, 1))
    contract = services.contract_cancel(actor=actor, contract=current_contract(school), cancelled_on=dt.date(2027, 8, 31))
    school.refresh_from_db()
    assert school.status == School.Status.ACTIVE and school.cancelled_at is None

    on_day(monkeypatch, today)
    from shared.clients.tasks import schools_close_on_cancellation

    schools_close_on_cancellation.fn()

    school.refresh_from_db()
    contract.refresh_from_db()
    page = host_client(provisioned.hostname).get("/accounts/login/")
    assert (school.status == School.Status.ACTIVE) is site_open
    assert page.status_code == (200 if site_open else 403)
    # The 3- and 6-month clocks count from the cancellation date, whenever it was recorded.
    assert (contract.config_files_delete_on, contract.schema_drop_on) == (dt.date(2027, 11, 30), dt.date(2028, 2, 29))
    assert ChangeLogEntry.objects.filter(object_type="schools.school", object_id=str(school.pk), action="update",
                                         actor_kind="system").exists() is not site_open


def test_closing_on_the_cancellation_date_leaves_an_undone_cancellation_open(actor, monkeypatch):
    school = onboard(actor, contract_ends_on=dt.date(2027, 8, 31)).school
    on_day(monkeypatch, dt.date(2026, 12, 1))
    contract = services.contract_cancel(actor=actor, contract=current_contract(school), cancelled_on=dt.date(2027, 3, 1))
    services.contract_cancellation_undo(actor=actor, contract=contract)

    assert services.schools_close_on_cancellation(today=dt.date(2027, 3, 1)) == 0

    school.refresh_from_db()
    assert school.status == School.Status.ACTIVE


def test_the_client_page_says_the_site_stays_open_until_a_cancellation_dated_ahead(actor):
    from tests.helpers import console_client

    school = onboard(actor).school
    services.contract_cancel(actor=actor, contract=current_contract(school), cancelled_on=clock.today() + dt.timedelta(days=30))

    page = console_client(Operator.Role.ADMINISTRATOR).get(f"/console/clients/{school.pk}/").content.decode()

    assert "Open until the cancellation date, then closed" in page
