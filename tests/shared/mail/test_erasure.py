"""An erasure takes the person's mail log with it: every message sent to their address, or given up
on, is deleted; a message still waiting to be sent stays (it may be the answer to the request)."""

from __future__ import annotations

import uuid

import pytest
from django_tenants.utils import schema_context

from shared.changes import Actor
from shared.clients.services import contact_create
from shared.mail.models import OutgoingMessage
from shared.operators.models import Operator
from shared.privacy.requests import services as states
from shared.privacy.requests import vendor_tools as tools
from tenants.pupils.models import ParentCarer
from tenants.rights import services as school_services
from tenants.rights.models import SchoolRequest
from tests.tenants.rights.test_tools import head_of, open_request

pytestmark = pytest.mark.django_db


def message(to: str, state=OutgoingMessage.State.SENT) -> OutgoingMessage:
    return OutgoingMessage.objects.create(to=to, topic="security", template="users_invitation", sender="service",
                                          from_email="service@pupiltracking.example", subject="Your invitation",
                                          body_text="Hello", body_html="<p>Hello</p>", message_id=f"<{uuid.uuid4()}@test>",
                                          state=state)


def test_a_vendor_erasure_deletes_what_was_mailed_to_the_person_and_nothing_else(oakfield):
    dpo = Actor.operator(Operator.objects.filter(role=Operator.Role.DPO).first().user)
    contact = contact_create(actor=dpo, school=oakfield.school, full_name="Robin Contact", email="robin@oakfield.example")
    sent, failed = message("Robin@Oakfield.example"), message("robin@oakfield.example", OutgoingMessage.State.FAILED)
    waiting, other = message("robin@oakfield.example", OutgoingMessage.State.QUEUED), message("kim@oakfield.example")
    request = states.request_receive(actor=dpo, kind="erasure", requester_name="Robin Contact",
                                     requester_email="robin@oakfield.example")
    states.request_start(actor=dpo, request=request)
    tools.vendor_subject_identify(actor=dpo, request=request, subject=contact)

    counts = tools.vendor_subject_erase(actor=dpo, request=request)

    assert counts["mail.OutgoingMessage"] == 2
    assert not OutgoingMessage.objects.filter(pk__in=[sent.pk, failed.pk]).exists()
    assert OutgoingMessage.objects.filter(pk__in=[waiting.pk, other.pk]).count() == 2


def test_a_schools_erasure_of_a_parent_deletes_what_was_mailed_to_them(oakfield):
    with schema_context(oakfield.school.schema_name):
        parent = ParentCarer.objects.exclude(email="").first()
        request = open_request(oakfield, SchoolRequest.Kind.ERASURE, parent)
        sent, other = message(parent.email), message("someone.else@example.org")

        school_services.subject_erase(user=head_of(oakfield), request=request)

    assert not OutgoingMessage.objects.filter(pk=sent.pk).exists()
    assert OutgoingMessage.objects.filter(pk=other.pk).exists()
