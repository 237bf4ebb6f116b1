"""The web layer's own defences: a strict Content-Security-Policy on every response and no inline
script or style for it to block, no-store on signed-in pages and personal files, and request bodies
refused before they are read when they are larger than their page accepts."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from shared.operators.models import Operator
from tenants.configuration.models import SchoolDocument
from tenants.configuration.storage import school_folder
from tenants.xporter.models import ImportRun
from tests.helpers import console_client, host_client, school_client

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]
POLICY = {"default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self'",
          "object-src": "'none'", "base-uri": "'none'", "frame-ancestors": "'none'", "form-action": "'self'"}
MB = 1024 * 1024


def directives(header: str | None) -> dict[str, str] | None:
    """A policy header as {directive: sources} (the header's order of directives is not fixed)."""
    if header is None:
        return None
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def signed_in(school, email, password):
    return school_client(school, email, password)


def product_files(suffix: str) -> list[Path]:
    return sorted(path for folder in ("platform", "shared", "tenants") for path in (REPO_ROOT / folder).rglob(f"*{suffix}")
                  if "migrations" not in path.parts)


# --- Content-Security-Policy -------------------------------------------------------------------------


def test_every_kind_of_page_carries_the_policy(oakfield, password):
    operator = console_client(Operator.Role.ADMINISTRATOR)
    head = signed_in(oakfield, oakfield.demo.head_email, password)
    anonymous_school, anonymous_vendor = host_client(oakfield.hostname), host_client(settings.BASE_DOMAIN)

    responses = {
        "school sign-in": anonymous_school.get("/accounts/login/"),
        "school dashboard": head.get("/"),
        "school settings": head.get("/settings/"),
        "school theme": anonymous_school.get("/branding/theme.css"),
        "school 404": head.get("/no-such-page/"),
        "console sign-in": anonymous_vendor.get("/console/login/"),
        "console dashboard": operator.get("/console/"),
        "raw data view": operator.get("/console/raw/"),
        "landing": anonymous_vendor.get("/"),
        "unknown host": host_client(f"nowhere.{settings.BASE_DOMAIN}").get("/"),
        "too large": head.post("/rights/", data=b"", content_type="application/x-www-form-urlencoded",
                               CONTENT_LENGTH=str(2 * MB)),
    }

    assert {name: directives(r.get("Content-Security-Policy")) for name, r in responses.items()} == \
        {name: POLICY for name in responses}


_INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event-handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def mail_message_template(path: Path) -> bool:
    """A message's HTML part (shared.mail): read by mail clients, which keep only inline styles, and
    never served as a page; it may style inline, and nothing else of the list."""
    text = path.read_text()
    return path.parts[-2:] == ("mail", "base.html") or text.lstrip().startswith('{% extends "mail/base.html" %}')


def test_no_template_holds_inline_script_or_style():
    found = [f"{path.relative_to(REPO_ROOT)}: {what}" for path in product_files(".html")
             for pattern, what in _INLINE if pattern.search(path.read_text())
             and not (what in ("<style> block", "style attribute") and mail_message_template(path))]

    assert len(product_files(".html")) > 40
    assert found == []


def test_no_python_code_writes_inline_style_or_script_into_markup():
    """Charts are SVG built in Python: they style with presentation attributes (fill=, stroke=) and
    classes, which the policy allows, never style= or <style>."""
    markup = re.compile(r"""["'][^"'\n]*(<style\b|<script\b|\sstyle=)""", re.I)

    found = [str(path.relative_to(REPO_ROOT)) for path in product_files(".py") if markup.search(path.read_text())]

    assert found == []


def test_the_pages_own_scripts_and_styles_are_files_of_the_site(oakfield, password):
    page = signed_in(oakfield, oakfield.demo.head_email, password).get("/pupils/").content.decode()

    assert re.findall(r'<script src="([^"]+)"', page) == ["/static/js/site.js"]
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', page) == \
        ["/static/css/site.css", "/branding/theme.css?v=1d4f91"]


# --- Cache-Control -------------------------------------------------------------------------------------


def test_signed_in_pages_and_personal_files_are_never_stored(oakfield, password):
    operator = console_client(Operator.Role.ADMINISTRATOR)
    head = signed_in(oakfield, oakfield.demo.head_email, password)
    pdf = SimpleUploadedFile("policy.pdf", b"%PDF-1.7\n%test\n", "application/pdf")
    assert head.post("/settings/", {"action": "document", "title": "Policy", "file": pdf}).status_code == 302
    with schema_context(oakfield.school.schema_name):
        document = SchoolDocument.objects.get(title="Policy")

    stored = {
        "dashboard": head.get("/"),
        "pupil list": head.get("/pupils/"),
        "document": head.get(f"/documents/{document.pk}/"),
        "console client": operator.get(f"/console/clients/{oakfield.school.pk}/"),
        "processing record csv": operator.get("/console/compliance/processing.csv"),
    }

    assert {name: r["Cache-Control"] for name, r in stored.items()} == {name: "no-store" for name in stored}
    assert "no-store" in host_client(oakfield.hostname).get("/accounts/login/")["Cache-Control"]  # Django's own
    static = head.get("/static/css/site.css")
    assert static.status_code == 200 and "no-store" not in static.get("Cache-Control", "")


# --- Request size limits -----------------------------------------------------------------------------


class CountingBody(io.RawIOBase):
    """A request body of ``size`` bytes that is made only as it is read, and counts what was read."""

    def __init__(self, size: int):
        self.size, self.read_bytes = size, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.size - self.read_bytes)
        buffer[:n] = b"x" * n
        self.read_bytes += n
        return n


def files_of(schema_name: str) -> set[Path]:
    folder = school_folder(schema_name)
    return {p for p in folder.rglob("*") if p.is_file()} if folder.is_dir() else set()


def test_a_60_mb_upload_is_refused_with_the_limit_before_any_of_it_is_read(oakfield, password):
    head = signed_in(oakfield, oakfield.demo.head_email, password)
    body = CountingBody(60 * MB)
    with schema_context(oakfield.school.schema_name):
        documents = SchoolDocument.objects.count()
    files = files_of(oakfield.school.schema_name)

    response = head.generic("POST", "/settings/", content_type="multipart/form-data; boundary=xyz",
                            CONTENT_LENGTH=str(60 * MB), **{"wsgi.input": body})

    assert response.status_code == 413
    assert "What you sent was 60.0 MB; this page accepts at most 11.0 MB. Nothing was received" in \
        response.content.decode()
    assert body.read_bytes == 0
    with schema_context(oakfield.school.schema_name):
        assert SchoolDocument.objects.count() == documents
    assert files_of(oakfield.school.schema_name) == files


def test_a_large_json_import_is_refused_before_it_is_parsed(oakfield, password):
    head = signed_in(oakfield, oakfield.demo.head_email, password)
    document = json.dumps({"Students": [{"Id": f"N{i}", "Forename": "A", "Surname": "B"} for i in range(300_000)]})
    upload = SimpleUploadedFile("export.json", document.encode(), "application/json")
    assert len(document) > 12 * MB
    with schema_context(oakfield.school.schema_name):
        runs = ImportRun.objects.count()

    response = head.post("/import/", {"file": upload})

    assert response.status_code == 413 and b"at most 11.0 MB" in response.content
    with schema_context(oakfield.school.schema_name):
        assert ImportRun.objects.count() == runs


def test_a_page_without_an_upload_accepts_at_most_a_megabyte(oakfield, password):
    from tenants.rights.models import SchoolRequest

    head = signed_in(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        before = SchoolRequest.objects.count()

    response = head.post("/rights/", {"kind": "access", "requester_name": "x" * (2 * MB)})

    assert response.status_code == 413 and b"this page accepts at most 1.0 MB" in response.content
    with schema_context(oakfield.school.schema_name):
        assert SchoolRequest.objects.count() == before


def test_a_chunked_body_without_a_length_is_read_as_empty_and_refused(oakfield, password):
    head = signed_in(oakfield, oakfield.demo.head_email, password)
    body = CountingBody(60 * MB)
    with schema_context(oakfield.school.schema_name):
        documents = SchoolDocument.objects.count()

    response = head.generic("POST", "/settings/", content_type="multipart/form-data; boundary=xyz",
                            CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": body})

    assert response.status_code == 400  # no fields at all: not even the form's token
    assert body.read_bytes == 0
    with schema_context(oakfield.school.schema_name):
        assert SchoolDocument.objects.count() == documents


def test_too_many_fields_are_refused_by_djangos_own_limit(oakfield, password):
    from tenants.rights.models import SchoolRequest

    head = signed_in(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        before = SchoolRequest.objects.count()

    response = head.post("/rights/", {f"field{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)})

    assert response.status_code == 400
    with schema_context(oakfield.school.schema_name):
        assert SchoolRequest.objects.count() == before
