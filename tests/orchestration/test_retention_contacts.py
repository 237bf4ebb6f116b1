"""Contacts who stop being a client's contact mid-contract (the school replaces its contact
person): recorded from the console's client page, refused for an ended or the main contact, and
deleted with the correspondence with them and its attachments' files 7 years from when they
stopped (or from our last dealing with them, whichever is later) while the contract runs on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from orchestration.provisioning import client_onboard
from orchestration.retention.delete import DELETERS
from orchestration.retention.run import retention_run
from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.changes import Actor
from shared.clients import services
from shared.clients.models import Contact, Correspondence, CorrespondenceAttachment
from shared.operators.models import Operator
from shared.privacy.models import DeletionRecord, LegalHold
from tests.helpers import console_client

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.7\n%a letter\n"
ENDED_ON = dt.date(2026, 3, 31)
TODAY = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def actor() -> Actor:
    return Actor.operator(Operator.objects.get(role=Operator.Role.ADMINISTRATOR).user)


@pytest.fixture
def on_day(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: TODAY)


def contact(actor, school, name="Old Bursar", **fields) -> Contact:
    made = services.contact_create(actor=actor, school=school, full_name=name, email=f"{name.split()[0].lower()}@x.example",
                                   **fields)
    Contact.objects.filter(pk=made.pk).update(created_at=dt.datetime(2025, 9, 1, tzinfo=dt.timezone.utc))
    made.refresh_from_db()
    return made


def letter(actor, school, with_contact, occurred_at=dt.datetime(2026, 2, 1, 10, tzinfo=dt.timezone.utc)):
    return services.correspondence_record(actor=actor, school=school, direction="in", channel="email",
                                          subject="Invoice query", contact=with_contact, occurred_at=occurred_at,
                                          attachments=[SimpleUploadedFile("query.pdf", PDF)])


def file_exists(attachment: CorrespondenceAttachment) -> bool:
    return (Path(settings.VENDOR_FILES_ROOT) / attachment.file.name).is_file()


def test_ending_a_contact_is_change_logged_by_field(actor, oakfield, on_day):
    leaving = contact(actor, oakfield.school)

    services.contact_end(actor=actor, contact=leaving, ended_on=ENDED_ON)

    leaving.refresh_from_db()
    assert leaving.ended_on == ENDED_ON
    entry = ChangeLogEntry.objects.filter(object_type="clients.contact", object_id=str(leaving.pk)).first()
    assert entry.action == "update" and entry.fields == ["ended_on"]


@pytest.mark.parametrize(("setup", "ended_on", "message"), [
    ("ended", ENDED_ON, "stopped being a contact on"),
    ("primary", ENDED_ON, "make another contact the main one first"),
    ("none", dt.date(2026, 4, 2), "Enter a date between"),  # tomorrow
    ("none", dt.date(2025, 8, 31), "cannot end before they were recorded"),
])
def test_ending_a_contact_is_refused_and_changes_nothing(actor, oakfield, on_day, setup, ended_on, message):
    leaving = contact(actor, oakfield.school, is_primary=setup == "primary")
    if setup == "ended":
        services.contact_end(actor=actor, contact=leaving, ended_on=dt.date(2026, 1, 31))
    before = (list(Contact.objects.values_list("pk", "ended_on", "is_primary")), ChangeLogEntry.objects.count())

    with pytest.raises(ValidationError) as refused:
        services.contact_end(actor=actor, contact=leaving, ended_on=ended_on)

    assert message in " ".join(refused.value.messages)
    assert (list(Contact.objects.values_list("pk", "ended_on", "is_primary")), ChangeLogEntry.objects.count()) == before


def test_the_console_records_the_end_from_the_client_page(actor, oakfield):
    leaving = contact(actor, oakfield.school)
    client = console_client(Operator.Role.ADMINISTRATOR)
    url = f"/console/clients/{oakfield.school.pk}/contacts/{leaving.pk}/end/"

    page = client.get(f"/console/clients/{oakfield.school.pk}/").content.decode()
    response = client.post(url, {"ended_on": clock.today().isoformat()})
    again = client.post(url, {"ended_on": clock.today().isoformat()})
    bad = client.post(url, {"ended_on": "not a date"})

    assert f'action="{url}"' in page
    assert response.status_code == 302
    leaving.refresh_from_db()
    assert leaving.ended_on == clock.today()
    assert again.status_code == 200 and b"stopped being a contact on" in again.content
    assert bad.status_code == 200
    assert "no longer a contact since" in client.get(f"/console/clients/{oakfield.school.pk}/").content.decode()


def test_another_schools_contact_cannot_be_ended_from_this_schools_page(actor, oakfield, riverside):
    theirs = contact(actor, riverside.school)

    response = console_client(Operator.Role.ADMINISTRATOR).post(
        f"/console/clients/{oakfield.school.pk}/contacts/{theirs.pk}/end/", {"ended_on": clock.today().isoformat()})

    theirs.refresh_from_db()
    assert response.status_code == 404 and theirs.ended_on is None


# The boundary day: ended 31 March 2026, last letter 1 February 2026 -> due 31 March 2033.
@pytest.mark.parametrize(("as_of", "kept"), [(dt.date(2033, 3, 30), True), (dt.date(2033, 3, 31), False)])
def test_an_ended_contact_goes_7_years_after_ending_with_their_correspondence_and_its_files(
        actor, oakfield, on_day, as_of, kept):
    leaving = contact(actor, oakfield.school)
    staying = contact(actor, oakfield.school, name="New Bursar")
    theirs = letter(actor, oakfield.school, leaving).attachments.get()
    ours = letter(actor, oakfield.school, staying).attachments.get()
    complaint = services.complaint_record(actor=actor, school=oakfield.school, summary="Slow reports", contact=leaving)
    services.contact_end(actor=actor, contact=leaving, ended_on=ENDED_ON)

    retention_run(as_of=as_of, scope="public")

    assert Contact.objects.filter(pk=leaving.pk).exists() == kept
    assert Correspondence.objects.filter(pk=theirs.correspondence_id).exists() == kept
    assert file_exists(theirs) == kept
    # The complaint is the school's: it stays with the client's records, the link to the person cleared.
    complaint.refresh_from_db()
    assert complaint.contact_id == (leaving.pk if kept else None)
    # Everyone else's records run on the contract's clock.
    assert Contact.objects.filter(pk=staying.pk).exists() and file_exists(ours)
    recorded = DeletionRecord.objects.filter(kind="contact", unit=f"contact:{leaving.pk}")
    assert recorded.exists() != kept
    if not kept:
        assert recorded.get().category == "contract" and recorded.get().records_deleted == 3  # letter, file row, contact


def test_a_later_dealing_with_an_ended_contact_restarts_their_clock(actor, oakfield, on_day):
    leaving = contact(actor, oakfield.school)
    services.contact_end(actor=actor, contact=leaving, ended_on=ENDED_ON)
    letter(actor, oakfield.school, leaving, occurred_at=dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.timezone.utc))

    retention_run(as_of=dt.date(2033, 3, 31), scope="public")  # that letter came on 1 April, UK time
    assert Contact.objects.filter(pk=leaving.pk).exists()
    retention_run(as_of=dt.date(2033, 4, 1), scope="public")
    assert not Contact.objects.filter(pk=leaving.pk).exists()


def test_a_hold_naming_the_contact_keeps_them(actor, oakfield, on_day):
    leaving = contact(actor, oakfield.school)
    services.contact_end(actor=actor, contact=leaving, ended_on=ENDED_ON)
    LegalHold.objects.create(reason="Their claim", owner="dpo", starts_on=ENDED_ON, person=f"contact:{leaving.pk}")

    retention_run(as_of=dt.date(2040, 1, 1), scope="public")

    assert Contact.objects.filter(pk=leaving.pk).exists()


def test_a_contact_still_current_is_not_due_on_their_own(actor, oakfield):
    current = contact(actor, oakfield.school)

    retention_run(as_of=dt.date(2100, 1, 1), scope="public")

    assert Contact.objects.filter(pk=current.pk).exists()  # the contract has not ended


def test_the_whole_contracts_path_deletes_the_attachments_files_too(actor):
    school = client_onboard(actor=actor, name="Gone School", subdomain="goneschool", admin_email="head@gone.example",
                            contract_starts_on=dt.date(2025, 9, 1), contact_name="Gail Gone").school
    attachment = letter(actor, school, school.contacts.get()).attachments.get()
    assert file_exists(attachment)

    DELETERS["client_records"](f"school:{school.pk}", dt.date(2040, 1, 1))

    assert not file_exists(attachment) and not CorrespondenceAttachment.objects.filter(pk=attachment.pk).exists()


def test_the_whole_contracts_path_takes_the_support_grants_and_their_log_and_blanks_the_reason(actor, oakfield):
    from shared.clients.models import Contract
    from shared.support.models import SupportAccessLog, SupportAccessRequest

    school = client_onboard(actor=actor, name="Helped School", subdomain="helped", admin_email="head@helped.example",
                            contract_starts_on=dt.date(2025, 9, 1)).school
    Contract.objects.filter(school=school).update(cancellation_reason="Mrs Head was unhappy")
    operator = Operator.objects.get(role=Operator.Role.ADMINISTRATOR)
    grant = SupportAccessRequest.objects.create(operator=operator, school=school, ticket_reference="T-1",
                                                reason="Report broken", duration_hours=2)
    SupportAccessLog.objects.create(grant=grant, operator=operator, school=school, path="/x/", outcome="allowed")
    elsewhere = SupportAccessLog.objects.create(grant=grant, operator=operator, school=oakfield.school, path="/y/",
                                                outcome="refused", refusal_reason="other_school")

    DELETERS["client_records"](f"school:{school.pk}", dt.date(2040, 1, 1))

    assert not SupportAccessRequest.objects.filter(school=school).exists()
    assert not SupportAccessLog.objects.filter(pk=elsewhere.pk).exists()
    assert list(Contract.objects.filter(school=school).values_list("cancellation_reason", flat=True)) == [""]
