"""The school admin's recipients: recording whom a pupil's data went to, and the tasks a correction
or erasure then opens on the request page, resolved there; the request is answered only once each
is resolved. Bad input is refused and changes nothing; another school sees none of it."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.compliance.models import Recipient, RecipientHolding
from shared.privacy.models import RecipientTask
from tenants.pupils.models import Pupil
from tenants.rights import services
from tenants.rights.models import SchoolRequest
from tests.helpers import school_client
from tests.tenants.rights.test_tools import head_of, open_request

pytestmark = pytest.mark.django_db


def _given_a_correction_with_two_recipients(oakfield, admin):
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.first()
    for name in ("County Council", "Tutoring Ltd"):
        response = admin.post("/rights/recipients/", {"subject": f"pupil:{pupil.pk}", "recipient": "", "name": name,
                                                      "how_to_reach": f"data@{name.split()[0].lower()}.example",
                                                      "what": "The pupil's record, exported", "received_on": ""})
        assert response.status_code == 302, response.content[:3000]
    with schema_context(oakfield.school.schema_name):
        request = open_request(oakfield, SchoolRequest.Kind.CORRECTION, pupil)
        services.subject_correct(user=head_of(oakfield), request=request, changes={"surname": "Corrected"})
    return request, pupil


def _state(oakfield, request_id):
    with schema_context(oakfield.school.schema_name):
        state = SchoolRequest.objects.get(pk=request_id).state
    return (state, ChangeLogEntry.objects.count(),
            list(RecipientTask.objects.order_by("pk").values_list("pk", "state", "closed_reason")))


def test_the_admin_tells_both_recipients_before_the_correction_is_answered(oakfield, password):
    admin = school_client(oakfield, oakfield.demo.head_email, password)
    request, pupil = _given_a_correction_with_two_recipients(oakfield, admin)
    council, tutoring = RecipientTask.objects.filter(school=oakfield.school, school_request_id=request.pk).order_by(
        "recipient_name")
    url = f"/rights/{request.pk}/"

    page = admin.get(url).content.decode()
    assert "Recipients to tell" in page and "County Council" in page and "Tutoring Ltd" in page
    assert "Correction of surname" in page

    before = _state(oakfield, request.pk)
    refused = admin.post(url, {"action": "complete"}, follow=True).content.decode()
    assert "cannot be closed while 2 recipient tasks are open" in refused
    assert f"task #{council.pk}: tell County Council" in refused
    assert _state(oakfield, request.pk) == before

    # hostile: a blank reason, an unknown method, no evidence
    now = clock.now().strftime("%Y-%m-%dT%H:%M")
    for data, message in (
            ({"action": "task_close", "task": tutoring.pk, "reason": "   "}, "Why they are not told: This field is required."),
            ({"action": "task_done", "task": council.pk, "told_at": now, "told_how": "carrier pigeon", "evidence": "a note"},
             "How: Select a valid choice."),
            ({"action": "task_done", "task": council.pk, "told_at": now, "told_how": "email", "evidence": ""},
             "Evidence: This field is required."),
            ({"action": "task_done", "task": council.pk, "told_at": "yesterday-ish", "told_how": "email", "evidence": "x"},
             "Told at: Enter a valid date/time.")):
        page = admin.post(url, data, follow=True)
        assert page.status_code == 200 and message in page.content.decode(), message
        assert _state(oakfield, request.pk) == before
    assert admin.post(url, {"action": "task_close", "task": "abc", "reason": "x"}).status_code == 404

    admin.post(url, {"action": "task_done", "task": council.pk, "told_at": clock.now().strftime("%Y-%m-%dT%H:%M"),
                     "told_how": "email", "evidence": "Email of today, in the office mailbox"})
    admin.post(url, {"action": "task_close", "task": tutoring.pk, "reason": "They confirmed they deleted it in June"})
    page = admin.post(url, {"action": "complete"}, follow=True).content.decode()

    with schema_context(oakfield.school.schema_name):
        assert SchoolRequest.objects.get(pk=request.pk).state == SchoolRequest.State.COMPLETED
    assert "Done: told" in page and "Closed: They confirmed they deleted it in June" in page


def test_an_erasure_with_a_recipient_stays_in_progress_and_says_so(oakfield, password):
    admin = school_client(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.last()
        services.recipient_holding_add(user=head_of(oakfield), subject=pupil, recipient_name="Tutoring Ltd",
                                       how_to_reach="data@tutoring.example", what="Marksheet")
        request = open_request(oakfield, SchoolRequest.Kind.ERASURE, pupil)
        label = request.subject_label

    page = admin.post(f"/rights/{request.pk}/", {"action": "erase", "confirm": label}, follow=True).content.decode()

    assert "Tell each recipient below, then mark the request answered." in page and "Tutoring Ltd" in page
    with schema_context(oakfield.school.schema_name):
        assert SchoolRequest.objects.get(pk=request.pk).state == SchoolRequest.State.IN_PROGRESS
        assert not Pupil.objects.filter(pk=pupil.pk).exists()


def test_another_school_sees_none_of_it_and_cannot_touch_its_tasks(oakfield, riverside, password):
    oak_admin = school_client(oakfield, oakfield.demo.head_email, password)
    request, _ = _given_a_correction_with_two_recipients(oakfield, oak_admin)
    task = RecipientTask.objects.filter(school=oakfield.school).first()
    river_admin = school_client(riverside, riverside.demo.head_email, password)
    with schema_context(riverside.school.schema_name):
        river_request = open_request(riverside, SchoolRequest.Kind.CORRECTION, Pupil.objects.first())

    assert "County Council" not in river_admin.get("/rights/recipients/").content.decode()
    assert "County Council" not in river_admin.get(f"/rights/{river_request.pk}/").content.decode()
    before = _state(oakfield, request.pk)
    response = river_admin.post(f"/rights/{river_request.pk}/", {"action": "task_close", "task": task.pk,
                                                                 "reason": "Not mine"})
    assert response.status_code == 404
    assert _state(oakfield, request.pk) == before
    # choosing oakfield's recipient on riverside's page is not a choice
    page = river_admin.post("/rights/recipients/", {"subject": "", "recipient": str(task.recipient_id), "what": "x"})
    assert page.status_code == 200 and "Select a valid choice" in page.content.decode()


@pytest.mark.parametrize("data", [
    {"subject": "", "name": "X", "how_to_reach": "x@x.example", "what": "Marksheet"},
    {"subject": "pupil:999999999", "name": "X", "how_to_reach": "x@x.example", "what": "Marksheet"},
    {"subject": "PUPIL", "name": "X", "how_to_reach": "x@x.example", "what": "Marksheet"},
    {"subject": "pupil", "name": "", "how_to_reach": "", "what": "Marksheet"},
    {"subject": "pupil", "name": "X", "how_to_reach": "x@x.example", "what": "   "},
    {"subject": "pupil", "name": "X" * 300, "how_to_reach": "x@x.example", "what": "Marksheet"},
    {"subject": "pupil", "name": "X", "how_to_reach": "x@x.example", "what": "Marksheet", "received_on": "3026-01-01"},
])
def test_a_bad_recipient_entry_is_refused_and_writes_nothing(oakfield, password, data):
    admin = school_client(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.first()
    if data["subject"] == "pupil":
        data = {**data, "subject": f"pupil:{pupil.pk}"}
    before = Recipient.objects.count(), RecipientHolding.objects.count(), ChangeLogEntry.objects.count()

    response = admin.post("/rights/recipients/", {"recipient": "", **data})

    assert response.status_code == 200
    assert (Recipient.objects.count(), RecipientHolding.objects.count(), ChangeLogEntry.objects.count()) == before


def test_only_the_school_admin_opens_the_recipients_page(oakfield, password):
    teacher = school_client(oakfield, oakfield.demo.teacher_email, password)
    assert teacher.get("/rights/recipients/").status_code == 403
