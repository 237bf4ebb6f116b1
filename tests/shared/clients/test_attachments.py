"""Correspondence attachments: kept under VENDOR_FILES_ROOT with random names, accepted only by
their content, served only through the console, and deleted with their rows by retention."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from orchestration.provisioning import client_onboard
from orchestration.retention.run import retention_run
from shared.changes import Actor
from shared.clients.models import Correspondence, CorrespondenceAttachment
from shared.clients.selectors import current_contract
from shared.clients.services import contract_cancel, correspondence_record
from shared.operators.models import Operator
from shared.privacy.models import DeletionRecord
from tests.helpers import console_client, host_client

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.7\n%a letter\n"


@pytest.fixture
def actor():
    return Actor.operator(Operator.objects.get(role=Operator.Role.ADMINISTRATOR).user)


def vendor_files() -> set[Path]:
    root = Path(settings.VENDOR_FILES_ROOT)
    return {p.relative_to(root) for p in root.rglob("*") if p.is_file()}


def record(actor, school, *uploads):
    return correspondence_record(actor=actor, school=school, direction="in", channel="email",
                                 subject="Signed order form", attachments=list(uploads))


def test_an_attachment_is_kept_under_the_vendor_root_with_a_random_name(actor, oakfield):
    before = vendor_files()

    item = record(actor, oakfield.school, SimpleUploadedFile("Order form (signed).pdf", PDF, "text/html"))

    attachment = item.attachments.get()
    new = vendor_files() - before
    assert len(new) == 1
    (path,) = new
    assert path.parts[:2] == ("correspondence", str(oakfield.school.pk))
    assert path.suffix == ".pdf" and "Order" not in str(path)
    assert (Path(settings.VENDOR_FILES_ROOT) / path).read_bytes() == PDF
    assert (attachment.name, attachment.size, attachment.content_type) == ("Order form (signed).pdf", len(PDF),
                                                                          "application/pdf")
    assert not (Path.cwd() / "correspondence").exists()


@pytest.mark.parametrize(("upload", "message"), [
    (SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00 a program", "application/pdf"), "invoice.pdf is not a type we keep"),
    (SimpleUploadedFile("page.html", b"<script>alert(1)</script>", "text/html"), "page.html is not a type we keep"),
    (SimpleUploadedFile("big.pdf", b"%PDF-" + b"x" * (10 * 1024 * 1024), "application/pdf"), "big.pdf is larger than 10 MB"),
])
def test_an_attachment_of_a_type_we_do_not_keep_is_refused_and_nothing_is_written(actor, oakfield, upload, message):
    good = SimpleUploadedFile("letter.pdf", PDF, "application/pdf")
    before = (Correspondence.objects.count(), CorrespondenceAttachment.objects.count(), vendor_files())

    with pytest.raises(ValidationError) as refused:
        record(actor, oakfield.school, good, upload)

    assert message in refused.value.message_dict["attachments"][0]
    assert (Correspondence.objects.count(), CorrespondenceAttachment.objects.count(), vendor_files()) == before


def test_files_written_for_a_record_that_fails_to_save_are_removed(actor, oakfield):
    before = vendor_files()

    with pytest.raises(ValidationError):  # the subject is too long: found only when the row is checked
        correspondence_record(actor=actor, school=oakfield.school, direction="in", channel="email", subject="x" * 300,
                              attachments=[SimpleUploadedFile("letter.pdf", PDF)])

    assert vendor_files() == before


def test_the_console_serves_an_attachment_to_operators_and_only_for_its_school(actor, oakfield, riverside):
    item = record(actor, oakfield.school, SimpleUploadedFile("letter.pdf", PDF))
    attachment = item.attachments.get()
    url = f"/console/clients/{oakfield.school.pk}/attachments/{attachment.pk}/"
    client = console_client(Operator.Role.BILLING)

    download = client.get(url)
    wrong_school = client.get(f"/console/clients/{riverside.school.pk}/attachments/{attachment.pk}/")
    page = client.get(f"/console/clients/{oakfield.school.pk}/")
    anonymous = host_client(settings.BASE_DOMAIN).get(url)

    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf" and download["Cache-Control"] == "no-store"
    assert download["Content-Disposition"] == 'attachment; filename="letter.pdf"'
    assert wrong_school.status_code == 404
    assert f'href="{url}"'.encode() in page.content
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/console/login/")


def test_a_deleted_attachment_file_is_a_404_not_a_500(actor, oakfield):
    attachment = record(actor, oakfield.school, SimpleUploadedFile("letter.pdf", PDF)).attachments.get()
    attachment.file.storage.delete(attachment.file.name)

    response = console_client(Operator.Role.ADMINISTRATOR).get(
        f"/console/clients/{oakfield.school.pk}/attachments/{attachment.pk}/")

    assert response.status_code == 404


def test_retention_deletes_the_attachments_files_with_their_rows(actor, oakfield):
    provisioned = client_onboard(actor=actor, name="Leaving School", subdomain="leaving", admin_email="head@leaving.example",
                                 contract_starts_on=dt.date(2025, 9, 1), contact_name="Lee Leaving")
    school = provisioned.school
    record(actor, school, SimpleUploadedFile("contract.pdf", PDF), SimpleUploadedFile("notes.txt", b"Call back Monday"))
    kept = record(actor, oakfield.school, SimpleUploadedFile("oakfield.pdf", PDF)).attachments.get()
    contract_cancel(actor=actor, contract=current_contract(school), cancelled_on=dt.date(2026, 12, 31))
    own_folder = Path(settings.VENDOR_FILES_ROOT) / "correspondence" / str(school.pk)
    assert len(list(own_folder.iterdir())) == 2

    retention_run(as_of=dt.date(2033, 12, 30))  # the day before 7 years
    assert len(list(own_folder.iterdir())) == 2
    retention_run(as_of=dt.date(2033, 12, 31))

    assert not own_folder.exists()
    assert CorrespondenceAttachment.objects.filter(correspondence__school_id=school.pk).count() == 0
    assert Correspondence.objects.filter(school_id=school.pk).count() == 0
    assert DeletionRecord.objects.filter(kind="client_records", school_id=school.pk).count() == 1
    assert Path(kept.file.path).read_bytes() == PDF  # another client's attachment stays
