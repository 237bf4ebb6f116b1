"""Branding and documents: saved only whole, kept in the school's own folder, seen only by its staff."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from shared.audit.models import ChangeLogEntry
from tenants.configuration import services
from tenants.configuration.models import Branding, SchoolDocument
from tenants.configuration.storage import school_folder
from tenants.users.models import User
from tests.helpers import school_client

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%test\n"


def files_in(schema_name: str) -> set[str]:
    folder = school_folder(schema_name)
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} if folder.is_dir() else set()


def signed_in(school, email, password):
    return school_client(school, email, password)


def test_an_admin_brands_the_site_and_uploads_a_document(oakfield, password, django_capture_on_commit_callbacks):
    client = signed_in(oakfield, oakfield.demo.head_email, password)
    before = files_in(oakfield.school.schema_name)

    response = client.post("/settings/", {"action": "branding", "accent_colour": "#AA3300",
                                           "logo": SimpleUploadedFile("crest.png", PNG, "image/png")})
    assert response.status_code == 302
    response = client.post("/settings/", {"action": "document", "title": "Assessment policy",
                                           "file": SimpleUploadedFile("policy.pdf", PDF, "application/pdf")})
    assert response.status_code == 302

    page = client.get("/pupils/").content.decode()
    assert 'href="/branding/theme.css?v=aa3300"' in page and 'src="/branding/logo/"' in page
    assert client.get("/branding/theme.css").content == b":root { --accent: #aa3300; }\n"
    logo = client.get("/branding/logo/")
    assert logo["Content-Type"] == "image/png" and b"".join(logo.streaming_content) == PNG
    with schema_context(oakfield.school.schema_name):
        document = SchoolDocument.objects.get(title="Assessment policy")
        assert ChangeLogEntry.objects.filter(object_type="configuration.schooldocument", object_id=str(document.pk)).exists()
    download = client.get(f"/documents/{document.pk}/")
    assert b"".join(download.streaming_content) == PDF and "policy.pdf" in download["Content-Disposition"]
    new_files = files_in(oakfield.school.schema_name) - before
    assert len(new_files) == 2 and all(name.split("/")[0] in {"branding", "documents"} for name in new_files)
    assert not any("policy" in name or "crest" in name for name in new_files)  # names kept in the database only

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/settings/", {"action": "delete", "document": document.pk})
    assert files_in(oakfield.school.schema_name) - before == {n for n in new_files if n.startswith("branding/")}


@pytest.mark.parametrize("form, field", [
    ({"action": "branding", "accent_colour": "red"}, "Give the colour as #"),
    # white text on it would read at 1.5:1 (WCAG AA asks 4.5:1 of text)
    ({"action": "branding", "accent_colour": "#ffcc00"}, "This colour is too light"),
    ({"action": "branding", "accent_colour": "#112233", "logo": ("logo.svg", b"<svg onload='x()'/>")}, "PNG, JPEG or GIF"),
    ({"action": "branding", "accent_colour": "#112233", "logo": ("big.png", PNG + b"\x00" * 600_000)}, "the most is 512 KB"),
    ({"action": "document", "title": "Run me", "file": ("tool.exe", b"MZ\x90\x00")}, "Upload a PDF"),
    ({"action": "document", "title": "", "file": ("policy.pdf", PDF)}, "This field is required"),
])
def test_a_refused_upload_writes_neither_a_row_nor_a_file(oakfield, password, form, field):
    client = signed_in(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        rows = (Branding.objects.count(), SchoolDocument.objects.count(), ChangeLogEntry.objects.count())
    before = files_in(oakfield.school.schema_name)
    data = {k: SimpleUploadedFile(v[0], v[1]) if isinstance(v, tuple) else v for k, v in form.items()}

    response = client.post("/settings/", data)

    assert response.status_code == 200 and field in response.content.decode()
    with schema_context(oakfield.school.schema_name):
        assert (Branding.objects.count(), SchoolDocument.objects.count(), ChangeLogEntry.objects.count()) == rows
    assert files_in(oakfield.school.schema_name) == before


def test_documents_are_for_this_schools_staff_only(oakfield, riverside, password):
    with schema_context(oakfield.school.schema_name):
        head = User.objects.get(email=oakfield.demo.head_email)
        document = services.document_upload(user=head, title="Staff handbook",
                                            upload=SimpleUploadedFile("handbook.pdf", PDF))
    teacher = signed_in(oakfield, oakfield.demo.teacher_email, password)
    assert teacher.get(f"/documents/{document.pk}/").status_code == 200
    assert teacher.get("/settings/").status_code == 403
    parent = signed_in(oakfield, oakfield.demo.parent_email, password)
    assert parent.get(f"/documents/{document.pk}/").status_code == 403
    # Riverside's head, on Riverside's host, asking for Oakfield's document id: not there.
    other = signed_in(riverside, riverside.demo.head_email, password)
    assert other.get(f"/documents/{document.pk}/").status_code == 404
    assert document.file.name.startswith(f"{oakfield.school.schema_name}/documents/")


@pytest.mark.parametrize(("colour", "lowest"), [("#1d4f91", 7.37), ("#aa3300", 5.98), ("#ffcc00", 1.37), ("#767676", 4.11)])
def test_an_accents_contrast_is_measured_against_white_and_the_palest_background(colour, lowest):
    # #767676 on white is the well-known 4.54:1, the lightest grey that passes AA; on the notice bar's #eef4ff, 4.11:1
    assert round(services.accent_contrast(colour), 2) == lowest
    assert round(services.contrast_ratio("#767676", "#ffffff"), 2) == 4.54


def test_a_too_light_accent_saved_before_the_rule_is_served_as_the_default(oakfield, password):
    client = signed_in(oakfield, oakfield.demo.teacher_email, password)
    with schema_context(oakfield.school.schema_name):
        branding = services.branding_get()
        branding.accent_colour = "#ffcc00"
        branding.save()
    assert client.get("/branding/theme.css").content == f":root {{ --accent: {Branding.DEFAULT_COLOUR}; }}\n".encode()
