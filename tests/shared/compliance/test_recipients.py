"""The register of recipients and the tasks of telling them: a correction or an erasure opens one
task per recipient holding the person's data, and the request cannot close until each is done or
closed with a reason. Refusals change nothing; one school never sees another's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django_tenants.utils import schema_context

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.changes import Actor
from shared.clients.services import contact_create
from shared.compliance import disclosures, recipients
from shared.compliance.models import Disclosure, Recipient, RecipientHolding
from shared.privacy.models import RecipientTask, SubjectRequest
from shared.privacy.requests import recipient_tasks as tasks
from shared.privacy.requests import services as states
from tenants.pupils.models import Pupil
from tenants.rights import services
from tenants.rights.models import SchoolRequest
from tests.tenants.rights.test_tools import head_of, open_request

pytestmark = pytest.mark.django_db
Scope = RecipientHolding.Scope


def _host(actor) -> Recipient:
    """The host, holding everything: the vendor's records and every school's."""
    host = recipients.recipient_add(actor=actor, name="Rackspace", kind="sub_processor", contact="Account manager",
                                    how_to_reach="privacy@rackspace.example")
    recipients.holding_add(actor=actor, recipient=host, scope=Scope.VENDOR, what="The vendor's database, hosted")
    recipients.holding_add(actor=actor, recipient=host, scope=Scope.EVERY_SCHOOL, what="Every school's database, hosted")
    return host


def _vendor_correction(actor, oakfield) -> tuple[SubjectRequest, str]:
    contact = contact_create(actor=actor, school=oakfield.school, full_name="Robin Contact", email="robin@oakfield.example")
    request = states.request_receive(actor=actor, kind="correction", requester_name="Robin Contact")
    return states.request_start(actor=actor, request=request), f"contact:{contact.pk}"


def _snapshot(request) -> tuple:
    request.refresh_from_db()
    return (request.state, request.closed_on, ChangeLogEntry.objects.count(),
            list(RecipientTask.objects.order_by("pk").values_list("pk", "state", "closed_reason", "evidence")))


def test_a_correction_with_two_recipients_opens_two_tasks_and_closes_only_when_both_are_resolved(actor, oakfield):
    request, person = _vendor_correction(actor, oakfield)
    _host(actor)
    police = recipients.recipient_add(actor=actor, name="Thames Valley Police", kind="disclosure",
                                      how_to_reach="DC Jo Bloggs, jo.bloggs@police.example")
    disclosures.disclosure_record(
        actor=actor, recipient="Thames Valley Police, DC Jo Bloggs", disclosed_at=clock.now(), ground="legal_obligation",
        data_categories=["contract"], description="The contact's name and email", authorised_by="Dan Protection (DPO)",
        register_as=police, person_keys=[person])

    opened = recipients.recipient_tasks_open(actor=actor, request=request, person=person, fields=["email", "full_name"])

    assert sorted(task.recipient_name for task in opened) == ["Rackspace", "Thames Valley Police"]
    assert all(task.asked == "correction" and task.fields == ["email", "full_name"] and task.state == "open"
               for task in opened)
    assert {task.pk for task in tasks.recipient_tasks_of(request)} == {task.pk for task in opened}
    host_task, police_task = sorted(opened, key=lambda task: task.recipient_name)
    assert "privacy@rackspace.example" in host_task.recipient_reach and "The vendor's database" in host_task.held

    # refused while both are open: it names them, and nothing changes
    before = _snapshot(request)
    with pytest.raises(ValidationError) as refused:
        states.request_complete(actor=actor, request=request)
    message = " ".join(refused.value.messages)
    assert f"task #{host_task.pk}: tell Rackspace" in message and f"task #{police_task.pk}: tell Thames Valley Police" in message
    assert _snapshot(request) == before

    # one done: still refused, naming only the other
    tasks.recipient_task_done(actor=actor, task=host_task, told_at=clock.now(), told_how="email",
                              evidence="Ticket 4411 in the Rackspace portal")
    with pytest.raises(ValidationError) as refused:
        states.request_refuse(actor=actor, request=request, reason="Changed our mind")
    assert f"task #{police_task.pk}" in " ".join(refused.value.messages)
    assert f"task #{host_task.pk}" not in " ".join(refused.value.messages)
    assert SubjectRequest.objects.get(pk=request.pk).state == SubjectRequest.State.IN_PROGRESS

    # the other closed with a reason: now it completes
    tasks.recipient_task_close(actor=actor, task=police_task, reason="The force confirmed it holds no copy any more")
    states.request_complete(actor=actor, request=request)

    request.refresh_from_db()
    assert request.state == SubjectRequest.State.COMPLETED
    resolved = {t.recipient_name: t for t in tasks.recipient_tasks_of(request)}
    assert resolved["Rackspace"].state == "done" and resolved["Rackspace"].told_how == "email"
    assert resolved["Thames Valley Police"].state == "closed"
    logged = ChangeLogEntry.objects.filter(object_type="privacy.recipienttask", object_id=str(police_task.pk))
    assert [entry.action for entry in logged.order_by("id")] == ["create", "update"]
    assert logged.order_by("id").last().fields == ["closed_reason", "resolved_at", "resolved_by_id", "state"]


def test_a_second_correction_before_they_are_told_adds_its_fields_to_the_open_task(actor, oakfield):
    request, person = _vendor_correction(actor, oakfield)
    _host(actor)
    first = recipients.recipient_tasks_open(actor=actor, request=request, person=person, fields=["email"])
    again = recipients.recipient_tasks_open(actor=actor, request=request, person=person, fields=["phone", "email"])

    assert [task.pk for task in again] == [task.pk for task in first]
    assert RecipientTask.objects.get(pk=first[0].pk).fields == ["email", "phone"]
    assert recipients.recipient_tasks_open(actor=actor, request=request, person=person, fields=[]) == []


def test_a_request_no_recipient_holds_closes_as_before(actor, oakfield):
    request, person = _vendor_correction(actor, oakfield)

    assert recipients.recipient_tasks_open(actor=actor, request=request, person=person, fields=["email"]) == []
    states.request_complete(actor=actor, request=request)
    assert SubjectRequest.objects.get(pk=request.pk).state == SubjectRequest.State.COMPLETED


def test_a_schools_correction_opens_a_task_for_its_recipient_and_the_host_and_waits_for_both(actor, oakfield):
    _host(actor)
    with schema_context(oakfield.school.schema_name):
        head = head_of(oakfield)
        pupil = Pupil.objects.first()
        services.recipient_holding_add(user=head, subject=pupil, recipient_name="Oxfordshire County Council",
                                       contact="Admissions team", how_to_reach="admissions@oxon.example",
                                       what="The pupil's record, exported for a transfer")
        request = open_request(oakfield, SchoolRequest.Kind.CORRECTION, pupil)

        changed = services.subject_correct(user=head, request=request, changes={"forename": "Corrected"})

        assert changed == ["forename"]
        opened = list(tasks.recipient_tasks_of(request))
        assert sorted(t.recipient_name for t in opened) == ["Oxfordshire County Council", "Rackspace"]
        assert all(t.person == f"pupil:{oakfield.school.pk}:{pupil.pk}" and t.fields == ["forename"] for t in opened)
        assert all(t.school_id == oakfield.school.pk and t.school_request_id == request.pk for t in opened)
        with pytest.raises(ValidationError, match="2 recipient tasks are open"):
            states.request_complete(actor=Actor.school_user(head, oakfield.school.schema_name), request=request)
        assert SchoolRequest.objects.get(pk=request.pk).state == SchoolRequest.State.IN_PROGRESS
        school_actor = Actor.school_user(head, oakfield.school.schema_name)
        tasks.recipient_task_done(actor=school_actor, task=opened[0], told_at=clock.now(), told_how="letter",
                                  evidence="Letter of 1 December, copy in the office file")
        tasks.recipient_task_close(actor=school_actor, task=opened[1], reason="Hosted copy is corrected in place")
        states.request_complete(actor=school_actor, request=request)
        assert SchoolRequest.objects.get(pk=request.pk).state == SchoolRequest.State.COMPLETED
    # the tasks live in public, and the change log says so, though the school's admin wrote them
    entries = ChangeLogEntry.objects.filter(object_type="privacy.recipienttask", object_id__in=[str(t.pk) for t in opened])
    assert entries.count() == 4
    assert {(e.object_schema, e.actor_schema, e.actor_kind) for e in entries} == {
        ("public", oakfield.school.schema_name, "school_user")}


def test_an_erasure_lists_the_recipients_and_leaves_the_request_in_progress_until_they_are_told(actor, oakfield):
    with schema_context(oakfield.school.schema_name):
        head = head_of(oakfield)
        pupil = Pupil.objects.last()
        key = services.person_key(pupil)
        services.recipient_holding_add(user=head, subject=pupil, recipient_name="Tutoring Ltd",
                                       how_to_reach="data@tutoring.example", what="Marksheet of Year 9 maths")
        assert [r.name for r, _ in recipients.recipients_holding(key)] == ["Tutoring Ltd"]
        request = open_request(oakfield, SchoolRequest.Kind.ERASURE, pupil)

        services.subject_erase(user=head, request=request)

        request.refresh_from_db()
        assert not Pupil.objects.filter(pk=pupil.pk).exists()
        assert request.state == SchoolRequest.State.IN_PROGRESS
        (task,) = tasks.recipient_tasks_of(request)
        assert (task.recipient_name, task.asked, task.fields, task.person) == ("Tutoring Ltd", "erasure", [], key)


def test_one_schools_recipients_and_tasks_are_not_anothers(actor, oakfield, riverside):
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.first()
        holding = services.recipient_holding_add(user=head_of(oakfield), subject=pupil, recipient_name="Oakfield's LA",
                                                 how_to_reach="la@oak.example", what="Census return")
        oak_request = open_request(oakfield, SchoolRequest.Kind.CORRECTION, pupil)
        services.subject_correct(user=head_of(oakfield), request=oak_request, changes={"surname": "Changed"})
        (oak_task,) = tasks.recipient_tasks_of(oak_request)
    with schema_context(riverside.school.schema_name):
        river_pupil = Pupil.objects.first()
        open_request(riverside, SchoolRequest.Kind.CORRECTION, river_pupil)
        # a request of riverside's with oakfield's request's id (each schema numbers its own)
        river_request = SchoolRequest(pk=oak_request.pk, kind="correction")
        assert list(tasks.recipient_tasks_of(river_request)) == []
        with pytest.raises(Http404):
            tasks.access_recipient_task(river_request, oak_task.pk)
        assert [r.name for r, _ in recipients.recipients_holding(services.person_key(river_pupil))] == []
        with pytest.raises(ValidationError, match="that school's people only"):
            recipients.recipient_tasks_open(actor=actor, request=river_request, person=f"pupil:{oakfield.school.pk}:1",
                                            fields=["surname"])
    with pytest.raises(Http404):
        recipients.access_recipient(holding.recipient_id, school=riverside.school)
    with pytest.raises(Http404):
        recipients.access_recipient(holding.recipient_id)  # not in the vendor's register either
    assert list(recipients.recipient_list(school=riverside.school)) == []
    with pytest.raises(ValidationError, match="that school's people only"):
        recipients.holding_add(actor=actor, recipient=holding.recipient, person=f"pupil:{riverside.school.pk}:1",
                               what="Anything")


@pytest.mark.parametrize(("change", "message"), [
    ({"reason": ""}, "Give the reason"),
    ({"reason": "   "}, "Give the reason"),
    ({"told_how": "pigeon"}, "Say how they were told"),
    ({"told_how": "email", "evidence": " "}, "Say where the message"),
    ({"told_how": "email", "told_at": "future"}, "in the future"),
    ({"told_how": "email", "told_at": "before"}, "before the task opened"),
])
def test_a_task_resolved_badly_is_refused_and_changes_nothing(actor, oakfield, change, message):
    request, person = _vendor_correction(actor, oakfield)
    _host(actor)
    (task,) = recipients.recipient_tasks_open(actor=actor, request=request, person=person, fields=["email"])
    before = _snapshot(request)

    with pytest.raises(ValidationError, match=message):
        if "reason" in change:
            tasks.recipient_task_close(actor=actor, task=task, reason=change["reason"])
        else:
            told_at = {"future": clock.now() + dt.timedelta(hours=2),
                       "before": task.opened_at - dt.timedelta(days=2)}.get(change.get("told_at"), clock.now())
            tasks.recipient_task_done(actor=actor, task=task, told_at=told_at, told_how=change["told_how"],
                                      evidence=change.get("evidence", "Email of today"))

    assert _snapshot(request) == before


def test_a_resolved_task_cannot_be_resolved_again(actor, oakfield):
    request, person = _vendor_correction(actor, oakfield)
    _host(actor)
    (task,) = recipients.recipient_tasks_open(actor=actor, request=request, person=person, fields=["email"])
    tasks.recipient_task_close(actor=actor, task=task, reason="They confirmed they hold none")
    before = _snapshot(request)

    with pytest.raises(ValidationError, match="closed with a reason already"):
        tasks.recipient_task_done(actor=actor, task=task, told_at=clock.now(), told_how="email", evidence="x")

    assert _snapshot(request) == before


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"person": "pupil:1"}, "person"),
    ({"person": "contact:0"}, "person"),
    ({"person": "contact:999999999"}, "person"),
    ({"person": "prospect:1 OR 1=1"}, "person"),
    ({"person": "pupil:999999:1"}, "person"),
    ({"person": "", "scope": "person"}, "person"),
    ({"scope": "everyone"}, "scope"),
    ({"scope": "school"}, "school"),
    ({"scope": "vendor", "person": "contact:1"}, "person"),
    ({"what": "  "}, "what"),
])
def test_a_bad_holding_is_refused_and_writes_nothing(actor, kwargs, field):
    host = recipients.recipient_add(actor=actor, name="Host", kind="sub_processor", how_to_reach="ops@host.example")
    before = RecipientHolding.objects.count(), ChangeLogEntry.objects.count()

    with pytest.raises(ValidationError) as refused:
        recipients.holding_add(actor=actor, recipient=host, **{"what": "Backups", **kwargs})

    assert field in refused.value.message_dict
    assert (RecipientHolding.objects.count(), ChangeLogEntry.objects.count()) == before


@pytest.mark.parametrize("kwargs", [{"name": " "}, {"how_to_reach": ""}, {"kind": "friend"}])
def test_a_bad_recipient_is_refused_and_writes_nothing(actor, kwargs):
    before = Recipient.objects.count(), ChangeLogEntry.objects.count()

    with pytest.raises(ValidationError):
        recipients.recipient_add(actor=actor, **{"name": "Host", "kind": "sub_processor", "how_to_reach": "x@y.example",
                                                 **kwargs})

    assert (Recipient.objects.count(), ChangeLogEntry.objects.count()) == before


def test_a_disclosure_naming_people_without_a_registered_recipient_is_refused_whole(actor, oakfield):
    contact = contact_create(actor=actor, school=oakfield.school, full_name="Robin Contact", email="robin@oakfield.example")
    before = Disclosure.objects.count(), RecipientHolding.objects.count(), ChangeLogEntry.objects.count()
    data = {"recipient": "Police", "disclosed_at": clock.now(), "ground": "legal_obligation",
            "data_categories": ["contract"], "description": "Name", "authorised_by": "DPO"}
    with pytest.raises(ValidationError) as refused:
        disclosures.disclosure_record(actor=actor, **data, person_keys=[f"contact:{contact.pk}"])
    assert "register_as" in refused.value.message_dict
    police = recipients.recipient_add(actor=actor, name="Police", kind="disclosure", how_to_reach="x@police.example")
    before = Disclosure.objects.count(), RecipientHolding.objects.count(), ChangeLogEntry.objects.count()
    with pytest.raises(ValidationError) as refused:
        disclosures.disclosure_record(actor=actor, **data, register_as=police,
                                      person_keys=[f"contact:{contact.pk}", "contact:abc"])
    assert "person_keys" in refused.value.message_dict
    assert (Disclosure.objects.count(), RecipientHolding.objects.count(), ChangeLogEntry.objects.count()) == before
