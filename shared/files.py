"""Uploaded files kept on disk, for the school site and the console alike: under a root folder
named by a setting (outside the code, ignored by git), under random names (the original name is
kept in the database only), and accepted only when their first bytes say they are a type we take.

Files are never served as static media: each kind has a view that checks who asks.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile

# Recognised by their first bytes, not by the name or the browser's claim. No SVG or HTML: they can
# carry script. A zip is how .docx, .xlsx, .pptx and the OpenDocument formats are stored.
IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF87a": "image/gif",
                    b"GIF89a": "image/gif"}
DOCUMENT_SIGNATURES = {b"%PDF-": "application/pdf", b"PK\x03\x04": "application/zip"}
DOCUMENT_TYPES_TEXT = "a PDF, an Office or OpenDocument file, an image (PNG, JPEG, GIF), or a plain text or CSV file"


class RootedFileStorage(FileSystemStorage):
    """A file system storage whose root is the setting ``root_setting``, read on every use, so a
    test (or an operator) can move it."""

    root_setting = ""

    @property
    def base_location(self):
        return getattr(settings, self.root_setting)

    @property
    def location(self):
        return str(Path(self.base_location).resolve())

    @property
    def base_url(self):  # served through views that check access, never as static media
        return None


def random_name(folder: str, filename: str) -> str:
    """``<folder>/<random>.<ext>``: nothing of the original name but its (short) extension."""
    suffix = Path(filename).suffix.lower()[:10]
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


def sniff(upload: UploadedFile, signatures: dict[bytes, str]) -> str | None:
    """The content type the upload's first bytes announce, from ``signatures``; None if none."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    return next((kind for magic, kind in signatures.items() if head.startswith(magic)), None)


def document_type(upload: UploadedFile) -> str | None:
    """A document's content type by its content: PDF, zip-based office file, image, or UTF-8 text
    named .txt or .csv. None for anything else."""
    kind = sniff(upload, DOCUMENT_SIGNATURES | IMAGE_SIGNATURES)
    if kind is None and upload.name.lower().endswith((".txt", ".csv")):
        upload.seek(0)
        try:
            upload.read().decode("utf-8")
        except UnicodeDecodeError:
            return None
        finally:
            upload.seek(0)
        return "text/csv" if upload.name.lower().endswith(".csv") else "text/plain"
    return kind
