"""The console's register of recipients and the recipient tasks on a vendor request's page: added,
resolved, and the request answered only once each is resolved; bad input refused, writing nothing."""

from __future__ import annotations

import pytest

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.changes import Actor
from shared.clients.services import contact_create
from shared.compliance.models import Disclosure, Recipient, RecipientHolding
from shared.compliance.recipients import recipient_tasks_open
from shared.operators.models import Operator
from shared.privacy.models import RecipientTask, SubjectRequest
from shared.privacy.requests import services as states
from tests.helpers import console_client, form_token

pytestmark = pytest.mark.django_db
REGISTER = "/console/compliance/recipients/"


def post(client, url, **data):
    return client.post(url, {"form_token": form_token(client.get(url)), **data})


def _counts():
    return (Recipient.objects.count(), RecipientHolding.objects.count(), RecipientTask.objects.count(),
            Disclosure.objects.count(), ChangeLogEntry.objects.count())


def test_an_operator_registers_two_recipients_and_resolves_their_tasks_before_answering(oakfield):
    client = console_client(Operator.Role.DPO)
    actor = Actor.operator(Operator.objects.get(role=Operator.Role.DPO).user)
    contact = contact_create(actor=actor, school=oakfield.school, full_name="Robin Contact", email="robin@oakfield.example")
    response = post(client, REGISTER, name="Rackspace", kind="sub_processor", contact="Account manager",
                    how_to_reach="privacy@rackspace.example")
    host = Recipient.objects.get(name="Rackspace")
    assert response.status_code == 302 and response["Location"] == f"{REGISTER}{host.pk}/"
    assert post(client, f"{REGISTER}{host.pk}/", scope="vendor", what="The vendor's database").status_code == 302
    post(client, REGISTER, name="Mailing house", kind="export", how_to_reach="data@mail.example")
    mailer = Recipient.objects.get(name="Mailing house")
    assert post(client, f"{REGISTER}{mailer.pk}/", scope="person", person=f"contact:{contact.pk}",
                what="Name and address for a mailing").status_code == 302
    listing = client.get(REGISTER).content.decode()
    assert "Rackspace" in listing and "Mailing house" in listing and 'aria-current="page">Recipients' in listing

    request = states.request_start(actor=actor, request=states.request_receive(
        actor=actor, kind="correction", requester_name="Robin Contact", requester_email="robin@oakfield.example"))
    recipient_tasks_open(actor=actor, request=request, person=f"contact:{contact.pk}", fields=["email"])
    url = f"/console/requests/{request.pk}/"
    page = client.get(url).content.decode()
    assert "Recipients to tell" in page and "Rackspace" in page and "Mailing house" in page

    before = _counts()
    refused = client.post(url, {"form_token": form_token(client.get(url)), "action": "complete"}, follow=True)
    assert "cannot be closed while 2 recipient tasks are open" in refused.content.decode()
    assert SubjectRequest.objects.get(pk=request.pk).state == SubjectRequest.State.IN_PROGRESS and _counts() == before

    host_task = RecipientTask.objects.get(subject_request=request, recipient_id=host.pk)
    mailer_task = RecipientTask.objects.get(subject_request=request, recipient_id=mailer.pk)
    blank = post(client, url, action="task_close", task=mailer_task.pk, reason="")
    assert blank.status_code == 302 and _counts() == before
    post(client, url, action="task_done", task=host_task.pk, told_at=clock.now().strftime("%Y-%m-%dT%H:%M"),
         told_how="portal", evidence="Rackspace ticket 4411")
    post(client, url, action="task_close", task=mailer_task.pk, reason="The mailing house deleted the list in May")
    post(client, url, action="complete")

    assert SubjectRequest.objects.get(pk=request.pk).state == SubjectRequest.State.COMPLETED
    assert RecipientTask.objects.get(pk=host_task.pk).state == "done"
    assert RecipientTask.objects.get(pk=mailer_task.pk).closed_reason == "The mailing house deleted the list in May"


def test_a_task_of_another_request_is_not_found_from_this_one(oakfield):
    client = console_client(Operator.Role.ADMINISTRATOR)
    actor = Actor.operator(Operator.objects.get(role=Operator.Role.ADMINISTRATOR).user)
    contact = contact_create(actor=actor, school=oakfield.school, full_name="Robin Contact", email="robin@oakfield.example")
    post(client, REGISTER, name="Host", kind="sub_processor", how_to_reach="ops@host.example")
    post(client, f"{REGISTER}{Recipient.objects.get(name='Host').pk}/", scope="vendor", what="Everything")
    first, second = (states.request_start(actor=actor, request=states.request_receive(
        actor=actor, kind="correction", requester_name="Robin")) for _ in range(2))
    (task,) = recipient_tasks_open(actor=actor, request=first, person=f"contact:{contact.pk}", fields=["email"])
    before = _counts()

    response = post(client, f"/console/requests/{second.pk}/", action="task_close", task=task.pk, reason="x")

    assert response.status_code == 404 and _counts() == before


@pytest.mark.parametrize(("url", "data"), [
    (REGISTER, {"name": "", "kind": "export", "how_to_reach": "x@y.example"}),
    (REGISTER, {"name": "X", "kind": "friend", "how_to_reach": "x@y.example"}),
    (REGISTER, {"name": "X", "kind": "export", "how_to_reach": "   "}),
    ("holding", {"scope": "person", "person": "contact:1; DROP TABLE", "what": "x"}),
    ("holding", {"scope": "person", "person": "", "what": "x"}),
    ("holding", {"scope": "school", "what": "x"}),
    ("holding", {"scope": "vendor", "what": ""}),
    ("holding", {"scope": "vendor", "what": "x", "received_on": "9999-12-31"}),
    ("holding", {"scope": "vendor", "what": "x", "disclosure": "abc"}),
    ("/console/compliance/disclosures/new/", {"recipient": "Police", "disclosed_at": "2026-11-01T10:00",
                                              "ground": "legal_obligation", "data_categories": "contract",
                                              "description": "Name", "authorised_by": "DPO",
                                              "person_keys": "contact:1"}),
])
def test_bad_input_on_the_register_forms_is_refused_and_writes_nothing(oakfield, url, data):
    client = console_client(Operator.Role.DPO)
    actor = Actor.operator(Operator.objects.get(role=Operator.Role.DPO).user)
    from shared.compliance.recipients import recipient_add

    host = recipient_add(actor=actor, name="Host", kind="sub_processor", how_to_reach="ops@host.example")
    url = f"{REGISTER}{host.pk}/" if url == "holding" else url
    before = _counts()

    response = post(client, url, **data)

    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode() or 'class="errors"' in response.content.decode()
    assert _counts() == before


def test_an_unknown_or_schools_recipient_is_not_found_in_the_console(oakfield):
    from django_tenants.utils import schema_context

    from tenants.pupils.models import Pupil
    from tenants.rights import services
    from tests.tenants.rights.test_tools import head_of

    client = console_client(Operator.Role.DPO)
    with schema_context(oakfield.school.schema_name):
        holding = services.recipient_holding_add(user=head_of(oakfield), subject=Pupil.objects.first(),
                                                 recipient_name="Oakfield's own LA", how_to_reach="la@oak.example",
                                                 what="Census")
    assert client.get(f"{REGISTER}{holding.recipient_id}/").status_code == 404
    assert client.get(f"{REGISTER}999999999/").status_code == 404
    assert "Oakfield's own LA" not in client.get(REGISTER).content.decode()
    assert console_client(Operator.Role.SUPPORT).get(REGISTER).status_code == 403


def test_a_disclosure_names_its_recipient_and_people_and_their_correction_then_tells_it(oakfield):
    client = console_client(Operator.Role.DPO)
    actor = Actor.operator(Operator.objects.get(role=Operator.Role.DPO).user)
    contact = contact_create(actor=actor, school=oakfield.school, full_name="Robin Contact", email="robin@oakfield.example")
    post(client, REGISTER, name="Thames Valley Police", kind="disclosure", how_to_reach="jo.bloggs@police.example")
    police = Recipient.objects.get(name="Thames Valley Police")

    response = post(client, "/console/compliance/disclosures/new/", recipient="Thames Valley Police, DC Jo Bloggs",
                    disclosed_at=clock.now().strftime("%Y-%m-%dT%H:%M"), ground="legal_obligation",
                    data_categories="contract", description="The contact's name and email", authorised_by="DPO",
                    references="Order 2026/1", register_as=police.pk, person_keys=f"contact:{contact.pk}\n")

    assert response.status_code == 302, response.content[:3000]
    disclosure = Disclosure.objects.latest("pk")
    (holding,) = RecipientHolding.objects.filter(disclosure=disclosure)
    assert (holding.recipient_id, holding.person, holding.what) == (police.pk, f"contact:{contact.pk}",
                                                                    "The contact's name and email")
    assert "Thames Valley Police</a>: contact:" in client.get(response["Location"]).content.decode()
    request = states.request_start(actor=actor, request=states.request_receive(
        actor=actor, kind="erasure", requester_name="Robin Contact"))
    (task,) = recipient_tasks_open(actor=actor, request=request, person=f"contact:{contact.pk}")
    assert (task.recipient_name, task.asked, task.held) == ("Thames Valley Police", "erasure",
                                                            "The contact's name and email")
