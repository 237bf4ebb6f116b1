"""The console's request page answering requests about the vendor's own records: naming the
person, then correcting, restricting or erasing; asking for a fee; refusals shown, nothing changed."""

from __future__ import annotations

import pytest

from shared.changes import Actor
from shared.clients.models import Contact
from shared.clients.services import contact_create
from shared.marketing.services import prospect_create
from shared.operators.models import Operator
from shared.privacy.models import ErasureLedgerEntry, SubjectRequest
from shared.privacy.requests.ledger import ledger_mirror_path
from tests.console.test_requests import act, record
from tests.helpers import console_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin() -> Actor:
    return Actor.operator(Operator.objects.get(role=Operator.Role.ADMINISTRATOR).user)


@pytest.fixture(autouse=True)
def _empty_mirror():
    ledger_mirror_path().unlink(missing_ok=True)
    yield
    ledger_mirror_path().unlink(missing_ok=True)


def page(client, request) -> str:
    return client.get(f"/console/requests/{request.pk}/").content.decode()


def test_an_erasure_names_the_contact_then_erases_them(admin, oakfield):
    contact = contact_create(actor=admin, school=oakfield.school, full_name="Robin Contact", email="robin@oakfield.example")
    client = console_client(Operator.Role.DPO)
    request = record(client, kind="erasure", requester_email="robin@oakfield.example")
    shown = page(client, request)
    assert f'value="contact:{contact.pk}"' in shown and "Name the person" in shown

    act(client, request, action="identify", subject=f"contact:{contact.pk}")
    act(client, request, action="erase")  # not started: refused
    assert Contact.objects.filter(pk=contact.pk).exists()
    act(client, request, action="start")
    assert "Erase Contact Robin Contact" in page(client, request)
    act(client, request, action="erase", confirm="Robin")  # not typed as shown: refused
    assert Contact.objects.filter(pk=contact.pk).exists()
    response = act(client, request, action="erase", confirm=f"Contact Robin Contact ({oakfield.school.name})")

    assert response.status_code == 302 and not Contact.objects.filter(pk=contact.pk).exists()
    assert ErasureLedgerEntry.objects.filter(school=None, model="clients.Contact", object_id=contact.pk).exists()
    shown = client.get(response["Location"]).content.decode()
    assert "Erased (Contacts: 1)" in shown and "(no longer held)" in shown


def test_a_correction_form_shows_the_persons_fields_and_corrects_them(admin):
    prospect = prospect_create(actor=admin, full_name="Pat Prospcet", organisation="Hill School", email="pat@hill.example")
    client = console_client(Operator.Role.DPO)
    request = record(client, kind="correction", requester_email="pat@hill.example")
    act(client, request, action="identify", subject=f"prospect:{prospect.pk}")
    act(client, request, action="start")
    assert 'value="Pat Prospcet"' in page(client, request)

    response = act(client, request, action="correct", full_name="Pat Prospect", email="pat@hill.example", role="",
                   phone="")

    prospect.refresh_from_db()
    assert prospect.full_name == "Pat Prospect"
    assert "Corrected: full_name." in client.get(response["Location"]).content.decode()


def test_a_restriction_flags_the_prospect(admin):
    prospect = prospect_create(actor=admin, full_name="Pat Prospect", organisation="Hill School", email="pat@hill.example")
    client = console_client(Operator.Role.DPO)
    request = record(client, kind="restriction", requester_email="pat@hill.example")
    act(client, request, action="identify", subject=f"prospect:{prospect.pk}")
    act(client, request, action="start")

    act(client, request, action="restrict")

    prospect.refresh_from_db()
    assert prospect.processing_restricted
    assert "restricted" in console_client(Operator.Role.ADMINISTRATOR).get("/console/prospects/").content.decode()


def test_a_fee_without_its_ground_is_refused_on_the_page_and_changes_nothing():
    client = console_client(Operator.Role.DPO)
    request = record(client, kind="access")

    response = act(client, request, action="ask_fee", fee_reason="", fee_amount="10")

    assert "Access is free" in client.get(response["Location"]).content.decode()
    fresh = SubjectRequest.objects.get(pk=request.pk)
    assert (fresh.state, fresh.fee_reason, fresh.fee_amount) == ("received", "", None)

    act(client, request, action="ask_fee", fee_reason="excessive", fee_amount="25.00")
    fresh.refresh_from_db()
    assert (fresh.state, fresh.pause_reason, fresh.fee_reason) == ("awaiting_identity", "fee", "excessive")
    assert "fee of £25.00 asked (manifestly excessive)" in page(client, request)


def test_a_bad_reference_is_refused_with_a_message():
    client = console_client(Operator.Role.DPO)
    request = record(client, kind="erasure")

    response = act(client, request, action="identify", subject="pupil:1")

    assert "Choose a contact, log-in account, prospect or operator, or name one" in client.get(response["Location"]).content.decode()
    assert SubjectRequest.objects.get(pk=request.pk).subject_label == ""


def test_a_correction_and_an_erasure_open_a_task_for_each_recipient_of_the_persons_data(admin, oakfield):
    from shared.compliance.recipients import holding_add, recipient_add
    from shared.privacy.models import RecipientTask

    contact = contact_create(actor=admin, school=oakfield.school, full_name="Robin Contcat", email="robin@oakfield.example")
    mailer = recipient_add(actor=admin, name="Mailing house", kind="export", how_to_reach="data@mail.example")
    holding_add(actor=admin, recipient=mailer, what="Name and address", person=f"contact:{contact.pk}")
    client = console_client(Operator.Role.DPO)
    correction = record(client, kind="correction", requester_email="robin@oakfield.example")
    act(client, correction, action="identify", subject=f"contact:{contact.pk}")
    act(client, correction, action="start")

    act(client, correction, action="correct", full_name="Robin Contact", email="robin@oakfield.example", role="",
        phone="", address="")

    task = RecipientTask.objects.get(subject_request=correction)
    assert (task.recipient_name, task.asked, task.fields, task.person) == ("Mailing house", "correction", ["full_name"],
                                                                            f"contact:{contact.pk}")
    erasure = record(client, kind="erasure", requester_email="robin@oakfield.example")
    act(client, erasure, action="identify", subject=f"contact:{contact.pk}")
    act(client, erasure, action="start")
    act(client, erasure, action="erase", confirm=f"Contact Robin Contact ({oakfield.school.name})")

    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert RecipientTask.objects.get(subject_request=erasure).asked == "erasure"
    act(client, erasure, action="complete")  # a recipient still to be told: the request stays open
    assert SubjectRequest.objects.get(pk=erasure.pk).state == "in_progress"
