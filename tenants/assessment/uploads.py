"""Results from a spreadsheet: a CSV file (for example standardised scores from an external test)
staged, previewed with a column mapping, then imported all or nothing.

Staging keeps the file server-side between the two steps, in the cache for ``STAGE_SECONDS``,
under a key of the school's schema, the user and a random token; the form posts the token and its
mapping, never the data, and a token only opens the file of the user and school that staged it.
An import spends the staged file, so it runs once (submit-once refuses a second post as well).

The file is refused whole, with a clear message, when it is larger than ``MAX_BYTES`` or has more
than ``MAX_ROWS`` rows, is not UTF-8 text (a byte-order mark is fine), holds NUL bytes or is not
CSV. An import is refused whole when any row is wrong; every error names its row (as the
spreadsheet numbers it: the header is row 1) and its column. A cell is text and nothing else: a
formula such as ``=HYPERLINK(...)`` is never evaluated, and is simply not a grade, a UPN or a date."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from shared import clock
from shared.audit.services import change_log_record, change_log_record_many
from shared.changes import Action, Actor
from shared.dates import PAST
from tenants.assessment.calendar import locked_windows, windows
from tenants.assessment.models import Aspect, AssessmentPoint, Grade, GradeSet, Result, Subject
from tenants.pupils.models import Pupil
from tenants.pupils.selectors import pupils_visible_to
from tenants.users.models import User

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_ERRORS_SHOWN = 50
STAGE_SECONDS = 30 * 60
PREVIEW_ROWS = 10

PUPIL_BY = {
    "upn": "UPN",
    "external_id": "The school's pupil id (the MIS admission number)",
    "name_dob": "Name and date of birth",
}
_PUPIL_NOUN = {"upn": "UPN", "external_id": "pupil id", "name_dob": "name and date of birth"}
STANDARDISED_SET = "Standardised score (69–141)"
STANDARDISED_RANGE = range(69, 142)
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y")


class UploadRefused(ValidationError):
    pass


@dataclass(frozen=True)
class CsvTable:
    header: list[str]
    rows: list[list[str]]  # the data rows; row i is the spreadsheet's row i + 2


@dataclass(frozen=True)
class Staged:
    token: str
    filename: str
    table: CsvTable


@dataclass(frozen=True)
class Mapping:
    """Which column holds what (0-based column indexes)."""

    pupil_by: str
    pupil: int | None = None  # UPN or pupil id, or the full name for name_dob
    birth: int | None = None
    grade: int = 0
    date: int | None = None


@dataclass
class ImportSummary:
    written: int = 0
    unchanged: int = 0
    blank: int = 0
    rows: list[int] = field(default_factory=list)


def csv_read(content: bytes) -> CsvTable:
    """Parse a CSV file, or refuse it whole with a message saying what is wrong with it."""
    if len(content) > MAX_BYTES:
        raise UploadRefused(f"The file is {len(content) / 1024 / 1024:.1f} MB; the limit is "
                            f"{MAX_BYTES // 1024 // 1024} MB. Split it into smaller files.", code="too_large")
    if b"\x00" in content:
        raise UploadRefused("The file contains NUL bytes, so it is not a CSV text file. In your spreadsheet, "
                            "choose Save as → CSV UTF-8.", code="nul")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[:error.start].count(b"\n") + 1
        raise UploadRefused(f"The file is not UTF-8 text (the first bad byte is on row {line}). In your "
                            "spreadsheet, choose Save as → CSV UTF-8.", code="encoding") from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as error:
        raise UploadRefused(f"The file is not valid CSV: {error}.", code="csv") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise UploadRefused("The file needs a header row and at least one row of results.", code="empty")
    if len(rows) - 1 > MAX_ROWS:
        raise UploadRefused(f"The file has {len(rows) - 1} rows of results; the limit is {MAX_ROWS}.", code="too_many")
    header = [cell.strip() for cell in rows[0]]
    return CsvTable(header=header, rows=rows[1:])


def _key(user: User, token: str) -> str:
    return f"results-upload:{connection.schema_name}:{user.pk}:{token}"


def upload_stage(*, user: User, content: bytes, filename: str, size: int | None = None) -> Staged:
    """Check a file and keep it for the preview; refuses (UploadRefused) a file that cannot be read.
    ``size``: the upload's whole size, when ``content`` was read only up to just past the limit."""
    if size is not None and size > MAX_BYTES:
        raise UploadRefused(f"The file is {size / 1024 / 1024:.1f} MB; the limit is {MAX_BYTES // 1024 // 1024} MB. "
                            "Split it into smaller files.", code="too_large")
    table = csv_read(content)
    token = secrets.token_hex(16)
    cache.set(_key(user, token), {"content": content, "filename": filename[:200]}, STAGE_SECONDS)
    return Staged(token=token, filename=filename[:200], table=table)


def upload_get(*, user: User, token: str) -> Staged | None:
    """The file this user staged in this school under ``token``, if it is still there."""
    if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
        return None
    staged = cache.get(_key(user, token))
    if staged is None:
        return None
    return Staged(token=token, filename=staged["filename"], table=csv_read(staged["content"]))


_UPN = re.compile(r"^[A-Z][0-9]{11}[0-9A-Z]$")


def preview_rows(table: CsvTable) -> list[list[str]]:
    """The first rows, for the preview, with every UPN masked: the school site never shows one."""
    return [["(a UPN, not shown)" if _UPN.match(cell.strip().upper()) else cell for cell in row]
            for row in table.rows[:PREVIEW_ROWS]]


def mapping_guess(header: list[str]) -> dict[str, int | str | None]:
    """A first guess at the mapping from the header's names."""
    names = [h.casefold() for h in header]

    def find(*words):
        for i, name in enumerate(names):
            if any(word in name for word in words):
                return i
        return None

    upn, own_id = find("upn"), find("admission", "pupil id", "external", "mis id")
    name, birth = find("name", "pupil"), find("birth", "dob")
    if upn is not None:
        pupil_by, pupil = "upn", upn
    elif own_id is not None:
        pupil_by, pupil = "external_id", own_id
    else:
        pupil_by, pupil = "name_dob", name
    return {"pupil_by": pupil_by, "pupil": pupil, "birth": birth,
            "grade": find("score", "grade", "result", "mark", "level"), "date": find("date", "taken", "when")}


def standardised_grade_set() -> GradeSet:
    """The grade set of standardised scores (69 to 141, each scoring its own value), made once."""
    grade_set, created = GradeSet.objects.get_or_create(name=STANDARDISED_SET, xporter_id=None)
    if created:
        Grade.objects.bulk_create([Grade(grade_set=grade_set, label=str(n), order=i + 1, points=n)
                                   for i, n in enumerate(STANDARDISED_RANGE)])
        hundred = grade_set.grades.get(label="100")  # a standardised score of 100 is the expected standard
        grade_set.expected_from = hundred
        grade_set.greater_depth_from = grade_set.grades.get(label="110")
        grade_set.save(update_fields=["expected_from", "greater_depth_from"])
    return grade_set


@transaction.atomic
def aspect_add(*, user: User, subject: Subject, name: str, grade_set: GradeSet | None) -> Aspect:
    """A new aspect of a subject for uploaded results (``grade_set`` None: standardised scores)."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ValidationError({"aspect_name": "Give the new aspect a name of at most 80 characters."})
    if Aspect.objects.filter(subject=subject, name__iexact=name).exists():
        raise ValidationError({"aspect_name": f"{subject.name} already has an aspect called “{name}”."})
    aspect = Aspect.objects.create(subject=subject, name=name, grade_set=grade_set or standardised_grade_set())
    change_log_record(actor=Actor.school_user(user, connection.schema_name), instance=aspect, action=Action.CREATE,
                      fields=["subject", "name", "grade_set"])
    return aspect


def _norm(text: str) -> str:
    return " ".join(text.replace(",", " ").split()).casefold()


def _date(text: str) -> dt.date | None:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def _column_name(table: CsvTable, index: int) -> str:
    name = table.header[index] if index < len(table.header) and table.header[index] else f"column {index + 1}"
    return f"“{name[:40]}”"


def _check_mapping(table: CsvTable, mapping: Mapping, point: AssessmentPoint | None) -> None:
    width = len(table.header)
    used = {"grade": mapping.grade, "pupil": mapping.pupil, "birth": mapping.birth, "date": mapping.date}
    for name, index in used.items():
        if index is not None and not 0 <= index < width:
            raise ValidationError({name: "Choose one of the file's columns."})
    if mapping.pupil_by not in PUPIL_BY:
        raise ValidationError({"pupil_by": "Choose how the file names each pupil."})
    if mapping.pupil is None:
        raise ValidationError({"pupil": "Choose the column that names the pupil."})
    if mapping.pupil_by == "name_dob" and mapping.birth is None:
        raise ValidationError({"birth": "Choose the column with the date of birth."})
    if (mapping.date is None) == (point is None):
        raise ValidationError({"date": "Choose either a date column or an assessment point (one of the two)."})


@transaction.atomic
def results_import(*, user: User, table: CsvTable, mapping: Mapping, aspect: Aspect,
                   point: AssessmentPoint | None = None) -> ImportSummary:
    """Import the table's results for ``aspect``, dated by the mapping's date column or the
    ``point``'s day: all of them or, when any row is wrong, none, with a ValidationError listing
    each wrong row and column. Refused rows: an unknown pupil (or one this user may not see), a
    pupil whose processing is restricted or objected to, a pupil twice on the same date, an unknown
    grade, a date that is not a date, in the future or inside a locked point. A blank grade is
    skipped (an absent pupil). A fixed number of queries, plus one write of each kind."""
    _check_mapping(table, mapping, point)
    if point is not None and point.locked:
        raise ValidationError({"point": f"{point.name} is locked, so its results cannot be changed. "
                                        "A school admin can unlock it."})
    cells = lambda row, i: row[i].strip() if i is not None and i < len(row) else ""  # noqa: E731
    visible = list(pupils_visible_to(user).only("id", "upn", "external_id", "forename", "surname", "date_of_birth",
                                                "processing_restricted", "processing_objected"))
    index: dict[str, list[Pupil]] = {}
    for pupil in visible:
        if mapping.pupil_by == "upn" and pupil.upn:
            index.setdefault(pupil.upn.strip().upper(), []).append(pupil)
        elif mapping.pupil_by == "external_id" and pupil.external_id:
            index.setdefault(pupil.external_id.strip().casefold(), []).append(pupil)
        elif mapping.pupil_by == "name_dob" and pupil.date_of_birth:
            for name in {f"{pupil.forename} {pupil.surname}", f"{pupil.surname} {pupil.forename}"}:
                index.setdefault(f"{_norm(name)}|{pupil.date_of_birth.isoformat()}", []).append(pupil)
    grades = {g.label.strip().casefold(): g for g in aspect.grade_set.grades.all()}
    all_windows = windows()
    locked = locked_windows(all_windows)
    errors: list[str] = []
    seen: dict[tuple[int, dt.date], int] = {}
    wanted: dict[tuple[int, dt.date], tuple[int, int]] = {}  # (pupil, date) -> (grade id, row number)
    summary = ImportSummary()
    pupil_column = _column_name(table, mapping.pupil)
    for number, row in enumerate(table.rows, start=2):
        grade_text = cells(row, mapping.grade)
        if not grade_text:
            summary.blank += 1
            continue
        row_errors = []
        key = cells(row, mapping.pupil)
        if mapping.pupil_by == "upn":
            key = key.upper()
        elif mapping.pupil_by == "external_id":
            key = key.casefold()
        else:
            birth = _date(cells(row, mapping.birth))
            if birth is None:
                row_errors.append(f"Row {number}, {_column_name(table, mapping.birth)}: not a date of birth "
                                  "(write it as 31/12/2015 or 2015-12-31).")
            key = f"{_norm(key)}|{birth.isoformat() if birth else ''}"
        matches = index.get(key, []) if key else []
        pupil = None
        if not cells(row, mapping.pupil):
            row_errors.append(f"Row {number}, {pupil_column}: empty; it must name the pupil.")
        elif mapping.pupil_by != "name_dob" or not row_errors:
            if not matches:
                row_errors.append(f"Row {number}, {pupil_column}: no pupil {'you can see ' if user.role != User.Role.SCHOOL_ADMIN else ''}"
                                  f"matches this {_PUPIL_NOUN[mapping.pupil_by]}.")
            elif len({p.pk for p in matches}) > 1:
                row_errors.append(f"Row {number}, {pupil_column}: matches more than one pupil; use the UPN instead.")
            else:
                pupil = matches[0]
                if pupil.processing_restricted or pupil.processing_objected:
                    row_errors.append(f"Row {number}, {pupil_column}: this pupil's processing is restricted or "
                                      "objected to, so no results can be added for them.")
                    pupil = None
        grade = grades.get(grade_text.casefold())
        if grade is None:
            shown = grade_text[:30] + ("…" if len(grade_text) > 30 else "")
            row_errors.append(f"Row {number}, {_column_name(table, mapping.grade)}: “{shown}” is not a grade of "
                              f"{aspect.grade_set.name}.")
        if point is not None:
            day = point.date
        else:
            day = _date(cells(row, mapping.date))
            if day is None:
                row_errors.append(f"Row {number}, {_column_name(table, mapping.date)}: not a date "
                                  "(write it as 31/12/2026 or 2026-12-31).")
            elif not PAST.contains(day):
                row_errors.append(f"Row {number}, {_column_name(table, mapping.date)}: {day:%-d %B %Y} is "
                                  f"{'in the future' if day > clock.today() else 'too long ago'}.")
        if day is not None:
            for window in locked:
                if window.holds(day):
                    row_errors.append(f"Row {number}, {_column_name(table, mapping.date) if point is None else 'date'}"
                                      f": {window.point.name} is locked, so its results cannot be changed.")
        if pupil is not None and day is not None:
            earlier = seen.get((pupil.pk, day))
            if earlier is not None:
                row_errors.append(f"Row {number}, {pupil_column}: the same pupil as row {earlier}, on the same date.")
            else:
                seen[(pupil.pk, day)] = number
        errors.extend(row_errors)
        if not row_errors:
            wanted[(pupil.pk, day)] = (grade.pk, number)
    if errors:
        more = len(errors) - MAX_ERRORS_SHOWN
        shown = errors[:MAX_ERRORS_SHOWN] + ([f"… and {more} more."] if more > 0 else [])
        raise ValidationError(shown, code="rows")
    if not wanted:
        raise ValidationError("No row has a grade: nothing to import.", code="empty")
    existing = {(pid, day): gid for pid, day, gid in Result.objects.filter(
        aspect=aspect, pupil_id__in={pid for pid, _ in wanted}, recorded_on__in={day for _, day in wanted})
        .values_list("pupil_id", "recorded_on", "grade_id")}
    to_write = {k: v for k, v in wanted.items() if existing.get(k) != v[0]}
    summary.unchanged = len(wanted) - len(to_write)
    saved = Result.objects.bulk_create(
        [Result(pupil_id=pid, aspect=aspect, grade_id=gid, recorded_on=day, recorded_by=user)
         for (pid, day), (gid, _) in to_write.items()],
        update_conflicts=True, unique_fields=["pupil", "aspect", "recorded_on"], update_fields=["grade", "recorded_by"])
    change_log_record_many(actor=Actor.school_user(user, connection.schema_name), object_type="assessment.result",
                           changes=[(r.pk, Action.UPDATE, ["grade", "recorded_on", "recorded_by"]) for r in saved])
    summary.written = len(saved)
    return summary


@transaction.atomic
def upload_import(*, user: User, token: str, mapping: Mapping, aspect: Aspect | None = None,
                  new_aspect: tuple[Subject, str, GradeSet | None] | None = None,
                  point: AssessmentPoint | None = None) -> tuple[ImportSummary, Aspect]:
    """Import a staged file (``results_import``) into ``aspect`` or a new one (a school admin's
    ``new_aspect``: subject, name, grade set or None for standardised scores), and spend the file.
    Refuses a token that is unknown, expired, already imported, being imported, or staged by someone
    else (in this school or another)."""
    staged = upload_get(user=user, token=token)
    if staged is None:
        raise UploadRefused("This upload has expired or was already imported: upload the file again.", code="gone")
    claim = f"{_key(user, token)}:claim"
    if not cache.add(claim, 1, 120):
        raise UploadRefused("This file is being imported already (sent twice?): wait a moment and reload.",
                            code="busy")
    try:
        if new_aspect is not None:
            if user.role != User.Role.SCHOOL_ADMIN:
                raise ValidationError({"aspect_name": "Only a school admin can add an aspect."})
            subject, name, grade_set = new_aspect
            aspect = aspect_add(user=user, subject=subject, name=name, grade_set=grade_set)
        if aspect is None:
            raise ValidationError({"aspect": "Choose the aspect the results are of, or add a new one."})
        summary = results_import(user=user, table=staged.table, mapping=mapping, aspect=aspect, point=point)
    except BaseException:
        cache.delete(claim)
        raise
    # Spent now, not on commit: a second post that arrives meanwhile finds it gone (or claimed).
    cache.delete_many([_key(user, token), claim])
    return summary, aspect
