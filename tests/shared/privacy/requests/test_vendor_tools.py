"""The vendor's tools for requests about its own records: naming the person, correcting their own
fields, restricting processing, and erasing their records with the ledger written first. Each
refuses, changing nothing, when it does not fit the request's kind, state or person."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from shared.audit.models import ChangeLogEntry
from shared.changes import Action, Actor
from shared.clients.models import ClientAccount, Complaint, Contact, Correspondence, CorrespondenceAttachment
from shared.clients.selectors import contacts_to_write_to
from shared.clients.services import complaint_record, contact_create, correspondence_record
from shared.marketing.models import ProspectInteraction
from shared.marketing.selectors import prospects_for_marketing
from shared.marketing.services import (
    MarketingObjection,
    prospect_consent_give,
    prospect_create,
    prospect_interaction_record,
)
from shared.operators.models import Operator
from shared.operators.services import operator_create
from shared.privacy.holds import legal_hold_place
from shared.privacy.models import ErasureLedgerEntry, SubjectRequest
from shared.privacy.requests import services as states
from shared.privacy.requests import vendor_tools as tools
from shared.privacy.requests.ledger import ledger_mirror_entries, ledger_mirror_path
from tests.helpers import rows_written

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.7\n%a letter\n"


@pytest.fixture
def admin() -> Actor:
    return Actor.operator(Operator.objects.get(role=Operator.Role.ADMINISTRATOR).user)


@pytest.fixture
def dpo() -> Actor:
    return Actor.operator(Operator.objects.get(role=Operator.Role.DPO).user)


@pytest.fixture(autouse=True)
def _empty_mirror():
    path = ledger_mirror_path()
    path.unlink(missing_ok=True)
    yield
    path.unlink(missing_ok=True)


def request_about(actor: Actor, subject, kind: str, *, start: bool = True) -> SubjectRequest:
    request = states.request_receive(actor=actor, kind=kind, requester_name="The person")
    tools.vendor_subject_identify(actor=actor, request=request, subject=subject)
    if start:
        states.request_start(actor=actor, request=request)
    return request


def logged(instance) -> list[tuple[str, list[str]]]:
    return [(e.action, e.fields) for e in ChangeLogEntry.objects.filter(
        object_type=instance._meta.label_lower, object_id=str(instance.pk)).order_by("pk")]


def test_a_request_names_the_person_among_the_vendors_records(dpo, admin, oakfield):
    contact = contact_create(actor=admin, school=oakfield.school, full_name="Robin Contact", email="robin@oakfield.example")
    request = states.request_receive(actor=dpo, kind="erasure", requester_name="Robin", requester_email="ROBIN@oakfield.example")

    assert [tools.subject_reference(c) for c in tools.vendor_candidates(request.requester_email)] == [f"contact:{contact.pk}"]
    tools.vendor_subject_identify(actor=dpo, request=request, subject=tools.subject_from_reference(f"contact:{contact.pk}"))

    request.refresh_from_db()
    assert request.subject() == contact and request.subject_label == f"Contact Robin Contact ({oakfield.school.name})"
    assert logged(request)[-1] == (Action.UPDATE, ["subject_account", "subject_contact", "subject_label",
                                                   "subject_operator", "subject_prospect"])


@pytest.mark.parametrize("reference", ["", "pupil:1", "contact:", "contact:abc", "contact:999999999", "contact:-1",
                                       "contact:1:2", "x" * 40])
def test_a_reference_that_names_no_record_is_refused(reference):
    with pytest.raises(ValidationError):
        tools.subject_from_reference(reference)


def test_correction_changes_only_the_persons_own_fields_change_logged_by_name(dpo, admin, oakfield):
    contact = contact_create(actor=admin, school=oakfield.school, full_name="Robin Contcat", email="robin@old.example",
                             phone="01234")
    request = request_about(dpo, contact, "correction")

    changed = tools.vendor_subject_correct(actor=dpo, request=request, changes={
        "full_name": "Robin Contact", "email": " Robin@New.example ", "phone": "01234", "role": "", "address": ""})

    contact.refresh_from_db()
    assert changed == ["full_name", "email"]
    assert (contact.full_name, contact.email, contact.phone) == ("Robin Contact", "robin@new.example", "01234")
    assert logged(contact)[-1] == (Action.UPDATE, ["email", "full_name"])


@pytest.mark.parametrize(("changes", "message"), [
    ({"is_primary": "yes"}, "cannot be corrected here: is_primary"),
    ({"school": "2", "full_name": "X"}, "cannot be corrected here: school"),
    ({"email": "not an email"}, "valid email"),
    ({"full_name": ""}, "cannot be blank"),
    ({"phone": "1" * 41}, "at most 40"),
    ({"full_name": 7}, "as text"),
])
def test_a_correction_that_does_not_fit_is_refused_and_changes_nothing(dpo, admin, oakfield, changes, message):
    contact = contact_create(actor=admin, school=oakfield.school, full_name="Robin Contact", email="robin@oakfield.example")
    request = request_about(dpo, contact, "correction")
    before, writes = logged(contact), rows_written()

    with pytest.raises(ValidationError, match=message):
        tools.vendor_subject_correct(actor=dpo, request=request, changes=changes)

    assert rows_written() == writes and logged(contact) == before
    assert Contact.objects.get(pk=contact.pk).full_name == "Robin Contact"


def test_an_operators_correction_is_on_their_account(dpo, admin):
    operator, _ = operator_create(email="olly@pupiltracking.example", full_name="Olly Oprator", role="support")
    request = request_about(dpo, operator, "correction")

    assert tools.vendor_subject_correct(actor=dpo, request=request, changes={"full_name": "Olly Operator"}) == ["full_name"]
    assert get_user_model().objects.get(pk=operator.user_id).full_name == "Olly Operator"


@pytest.mark.parametrize(("kind", "start", "message"), [
    ("access", True, "that tool does not answer it"),
    ("correction", False, "Only a request in progress"),
])
def test_a_tool_refuses_a_request_of_another_kind_or_not_started(dpo, admin, oakfield, kind, start, message):
    contact = contact_create(actor=admin, school=oakfield.school, full_name="Robin Contact")
    request = request_about(dpo, contact, kind, start=start)
    writes = rows_written()

    with pytest.raises(ValidationError, match=message):
        tools.vendor_subject_correct(actor=dpo, request=request, changes={"full_name": "Someone Else"})
    with pytest.raises(ValidationError, match="does not answer"):
        tools.vendor_subject_erase(actor=dpo, request=request)
    with pytest.raises(ValidationError):
        tools.vendor_subject_restrict(actor=dpo, request=request)

    assert rows_written() == writes and Contact.objects.filter(pk=contact.pk).exists()


def test_a_request_naming_nobody_is_refused(dpo):
    request = states.request_receive(actor=dpo, kind="erasure", requester_name="Nobody Known")
    states.request_start(actor=dpo, request=request)
    with pytest.raises(ValidationError, match="identify the person first"):
        tools.vendor_subject_erase(actor=dpo, request=request)


def test_a_restricted_prospect_is_kept_but_never_marketed_to(dpo, admin):
    prospect = prospect_create(actor=admin, full_name="Pat Prospect", organisation="Hill School", email="pat@hill.example")
    other = prospect_create(actor=admin, full_name="Kim Other", organisation="Dale School", email="kim@dale.example")
    for consenting in (prospect, other):
        prospect_consent_give(actor=admin, prospect=consenting, how="Ticked the box at a conference")
    request = request_about(dpo, prospect, "restriction")

    assert tools.vendor_subject_restrict(actor=dpo, request=request) == ["processing_restricted"]

    prospect.refresh_from_db()
    assert prospect.processing_restricted and not prospect.may_be_contacted
    assert list(prospects_for_marketing().filter(pk__in=[prospect.pk, other.pk])) == [other]
    assert logged(prospect)[-1] == (Action.UPDATE, ["processing_restricted"])
    with pytest.raises(MarketingObjection, match="restrict"):
        prospect_interaction_record(actor=admin, prospect=prospect, direction="out", channel="email", summary="Offer")
    # their own contact is still recorded
    prospect_interaction_record(actor=admin, prospect=prospect, direction="in", channel="email", summary="Question")
    assert tools.vendor_subject_restrict(actor=dpo, request=request) == []  # already: nothing changes


def test_a_restricted_contact_is_left_out_of_automated_mailings(dpo, admin, oakfield):
    contact = contact_create(actor=admin, school=oakfield.school, full_name="Robin Contact", email="robin@oakfield.example")
    request = request_about(dpo, contact, "restriction")

    tools.vendor_subject_restrict(actor=dpo, request=request)

    assert contact not in contacts_to_write_to(oakfield.school) and Contact.objects.filter(pk=contact.pk).exists()
    tools.vendor_subject_restrict(actor=dpo, request=request, on=False)
    assert contact in contacts_to_write_to(oakfield.school)


def test_restriction_of_a_log_in_account_is_refused(dpo, oakfield):
    account = ClientAccount.objects.create(school=oakfield.school, email="head2@oakfield.example", full_name="Head")
    request = request_about(dpo, account, "restriction")
    writes = rows_written()
    with pytest.raises(ValidationError, match="contact and prospect records"):
        tools.vendor_subject_restrict(actor=dpo, request=request)
    assert rows_written() == writes


def test_erasing_a_contact_takes_their_correspondence_files_first_and_complaints_ledger_first(
        dpo, admin, oakfield, django_capture_on_commit_callbacks):
    contact = contact_create(actor=admin, school=oakfield.school, full_name="Robin Contact", email="robin@oakfield.example")
    kept = contact_create(actor=admin, school=oakfield.school, full_name="Kim Kept")
    letter = correspondence_record(actor=admin, school=oakfield.school, direction="in", channel="email", subject="Renewal",
                                   contact=contact, attachments=[SimpleUploadedFile("order.pdf", PDF)])
    other_letter = correspondence_record(actor=admin, school=oakfield.school, direction="in", channel="email",
                                         subject="Invoice", contact=kept)
    complaint = complaint_record(actor=admin, school=oakfield.school, summary="Slow", contact=contact)
    file = Path(settings.VENDOR_FILES_ROOT) / letter.attachments.get().file.name
    request = request_about(dpo, contact, "erasure")
    assert file.exists()
    contact_id, letter_id, complaint_id = contact.pk, letter.pk, complaint.pk

    with django_capture_on_commit_callbacks(execute=True):
        counts = tools.vendor_subject_erase(actor=dpo, request=request)

    assert counts == {"files": 1, "clients.Contact": 1, "clients.Correspondence": 1, "clients.CorrespondenceAttachment": 1,
                      "clients.Complaint": 1}
    assert not file.exists()
    assert not Contact.objects.filter(pk=contact_id).exists() and not Correspondence.objects.filter(pk=letter_id).exists()
    assert not Complaint.objects.filter(pk=complaint_id).exists()
    assert not CorrespondenceAttachment.objects.filter(correspondence_id=letter_id).exists()
    assert Correspondence.objects.filter(pk=other_letter.pk).exists() and Contact.objects.filter(pk=kept.pk).exists()
    entries = set(ErasureLedgerEntry.objects.filter(school=None).values_list("schema_name", "model", "object_id", "request_ref"))
    ref = f"vendor-request:{request.pk}"
    assert entries == {("public", "clients.Contact", contact_id, ref), ("public", "clients.Correspondence", letter_id, ref),
                       ("public", "clients.Complaint", complaint_id, ref)}
    assert {(e["model"], e["object_id"]) for e in ledger_mirror_entries()} == {(m, i) for _, m, i, _ in entries}
    assert "Robin" not in ledger_mirror_path().read_text()  # ids only
    assert [(e.action, e.fields) for e in ChangeLogEntry.objects.filter(object_type="clients.contact",
                                                                        object_id=str(contact_id)).order_by("pk")][-1] == (Action.DELETE, [])
    request.refresh_from_db()
    assert request.subject() is None and request.subject_label.startswith("Contact Robin Contact")
    assert request.state == "in_progress"  # open until the operator marks it answered


def test_erasing_a_prospect_takes_their_interactions(dpo, admin):
    prospect = prospect_create(actor=admin, full_name="Pat Prospect", organisation="Hill School", email="pat@hill.example")
    prospect_interaction_record(actor=admin, prospect=prospect, direction="out", channel="phone", summary="Intro call")
    request = request_about(dpo, prospect, "erasure")
    prospect_id = prospect.pk

    counts = tools.vendor_subject_erase(actor=dpo, request=request)

    assert counts == {"marketing.Prospect": 1, "marketing.ProspectInteraction": 1}
    assert not ProspectInteraction.objects.filter(prospect_id=prospect_id).exists()
    assert ErasureLedgerEntry.objects.filter(school=None, model="marketing.Prospect", object_id=prospect_id).exists()


def test_erasing_a_client_log_in_account(dpo, oakfield):
    account = ClientAccount.objects.create(school=oakfield.school, email="head2@oakfield.example", full_name="Head")
    request = request_about(dpo, account, "erasure")
    account_id = account.pk

    assert tools.vendor_subject_erase(actor=dpo, request=request) == {"clients.ClientAccount": 1}
    assert not ClientAccount.objects.filter(pk=account_id).exists()


def test_erasing_an_operator_removes_the_account_and_anonymises_its_technical_records(dpo, admin, oakfield):
    operator, _ = operator_create(email="olly@pupiltracking.example", full_name="Olly Operator", role="support")
    olly = Actor.operator(operator.user)
    letter = correspondence_record(actor=olly, school=oakfield.school, direction="out", channel="phone", subject="Call")
    request = request_about(dpo, operator, "erasure")
    signed_in = SessionStore()
    signed_in["_auth_user_id"] = str(operator.user_id)
    signed_in.create()
    someone_else = SessionStore()
    someone_else["_auth_user_id"] = str(dpo.user_id)
    someone_else.create()

    counts = tools.vendor_subject_erase(actor=dpo, request=request)

    assert not Session.objects.filter(pk=signed_in.session_key).exists() and counts["sessions"] == 1
    assert Session.objects.filter(pk=someone_else.session_key).exists()
    assert not get_user_model().objects.filter(pk=operator.user_id).exists()
    assert not Operator.objects.filter(pk=operator.pk).exists()
    assert not ChangeLogEntry.objects.filter(actor_schema="public", actor_id=operator.user_id).exists()
    assert Correspondence.objects.get(pk=letter.pk).recorded_by_id is None  # the record stays, without them
    assert counts["users.User"] == 1 and counts["operators.Operator"] == 1 and counts["recorded_by"] == 1
    assert counts["technical"] >= 1
    assert ErasureLedgerEntry.objects.filter(school=None, model="users.User", object_id=operator.user_id).exists()


def test_erasing_yourself_or_the_last_administrator_is_refused_and_changes_nothing(dpo, admin):
    me = Operator.objects.get(user_id=dpo.user_id)
    last_admin = Operator.objects.get(user_id=admin.user_id)
    mine = request_about(dpo, me, "erasure")
    theirs = request_about(dpo, last_admin, "erasure")
    writes, ledger = rows_written(), ErasureLedgerEntry.objects.count()

    with pytest.raises(ValidationError, match="your own account"):
        tools.vendor_subject_erase(actor=dpo, request=mine)
    with pytest.raises(ValidationError, match="last administrator"):
        tools.vendor_subject_erase(actor=dpo, request=theirs)

    assert rows_written() == writes and ErasureLedgerEntry.objects.count() == ledger
    assert Operator.objects.filter(pk__in=[me.pk, last_admin.pk]).count() == 2


def test_erasure_under_a_legal_hold_is_refused_and_changes_nothing(dpo, admin, oakfield):
    contact = contact_create(actor=admin, school=oakfield.school, full_name="Robin Contact")
    request = request_about(dpo, contact, "erasure")
    legal_hold_place(actor=admin, reason="Contract dispute", owner="Legal", starts_on=dt.date(2020, 1, 1),
                     school=oakfield.school)
    writes = rows_written()

    with pytest.raises(ValidationError, match="legal hold"):
        tools.vendor_subject_erase(actor=dpo, request=request)

    assert rows_written() == writes and Contact.objects.filter(pk=contact.pk).exists()
    assert not ErasureLedgerEntry.objects.filter(school=None).exists()


def test_the_mirror_skips_a_torn_last_line(dpo, admin):
    path = ledger_mirror_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"model": "clients.Contact", "object_id": 5, "request_ref": "r"}) + '\n{"model": "cli')
    assert [(e["model"], e["object_id"]) for e in ledger_mirror_entries()] == [("clients.Contact", 5)]
