"""Where school files are kept: one folder per school schema, under ``SCHOOL_FILES_ROOT``
(the storage and the checks are ``shared.files``', the same as the vendor's own files)."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.db import connection

from shared.files import RootedFileStorage, random_name


class SchoolFileStorage(RootedFileStorage):
    root_setting = "SCHOOL_FILES_ROOT"


school_files = SchoolFileStorage()


def _school_path(kind: str, filename: str) -> str:
    """``<schema>/<kind>/<random>.<ext>``: the original name is kept in the database, not on disk."""
    return random_name(f"{connection.schema_name}/{kind}", filename)


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
