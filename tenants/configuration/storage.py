"""Where school files are kept: one folder per school schema, under ``SCHOOL_FILES_ROOT``."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import connection


class SchoolFileStorage(FileSystemStorage):
    """Reads the root from settings on every use, so a test (or an operator) can move it."""

    @property
    def base_location(self):
        return settings.SCHOOL_FILES_ROOT

    @property
    def location(self):
        return str(Path(self.base_location).resolve())

    @property
    def base_url(self):  # served through the school site's own views, never as static media
        return None


school_files = SchoolFileStorage()


def _school_path(kind: str, filename: str) -> str:
    """``<schema>/<kind>/<random>.<ext>``: the original name is kept in the database, not on disk."""
    suffix = Path(filename).suffix.lower()[:10]
    return f"{connection.schema_name}/{kind}/{uuid.uuid4().hex}{suffix}"


def branding_upload_to(instance, filename: str) -> str:
    return _school_path("branding", filename)


def document_upload_to(instance, filename: str) -> str:
    return _school_path("documents", filename)


def school_folder(schema_name: str) -> Path:
    return Path(school_files.location) / schema_name


def school_folder_destroy(schema_name: str) -> int:
    """Remove a school's whole folder; returns how many files it held (0 if it had none)."""
    folder = school_folder(schema_name)
    if not folder.is_dir():
        return 0
    files = sum(1 for path in folder.rglob("*") if path.is_file())
    shutil.rmtree(folder)
    return files
