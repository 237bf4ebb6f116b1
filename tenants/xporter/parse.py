"""Read an Xporter export into an import plan: every row of every table parsed and checked, with
nothing written. ``tenants.xporter.apply`` writes the plan to the school's schema.

A malformed row raises ``ImportRejected`` naming the table, the row's Id and the field. Checked
here: JSON that is not JSON (or nested too deep to read, or holding NaN, Infinity or a number too
large for a float), values of the wrong type (``"Subjects": 5``, an object where text belongs),
numbers that are not finite or do not fit, NUL characters, dates outside ``shared.dates``' ranges,
and two results for one pupil, aspect and date (or two targets for one pupil and subject) within
the file.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from shared import clock
from shared.dates import BIRTH, PAST, PLANNED, DateRange
from tenants.pupils.models import Group, Pupil, SenProvision

GROUP_KINDS = {"YearGroup": Group.Kind.YEAR, "RegGroup": Group.Kind.REGISTRATION, "TeachingGroup": Group.Kind.TEACHING}
TRUE_STRINGS, FALSE_STRINGS = {"1", "y", "yes", "true", "t"}, {"0", "n", "no", "false", "f", ""}


class ImportRejected(ValueError):
    """A malformed payload. Nothing was written; the message names the record and the field."""


@dataclass
class TablePayload:
    rows: list = field(default_factory=list)
    deleted: list = field(default_factory=list)


def _refuse_constant(name: str):
    raise ImportRejected(f"the file holds {name}, which is not a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ImportRejected(f"the file holds the number {text[:40]}, which is too large")
    return value


def document_from_json(content: bytes | str) -> object:
    """Parse an uploaded file as strict JSON: NaN, Infinity and numbers beyond a float's range
    are refused, and so is nesting too deep to read."""
    try:
        return json.loads(content, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ImportRejected("the file is nested too deeply to be an Xporter export") from None
    except UnicodeDecodeError:
        raise ImportRejected("the file is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise ImportRejected(f"the file is not JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None


def _rows_of(value, where: str) -> list:
    """A list of rows (one object counts as a list of one); anything else is refused."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    if not isinstance(value, list):
        raise ImportRejected(f"{where}: expected a list of rows, not {_kind(value)}")
    return value


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


def payload_from_xporter_json(document: Mapping) -> dict[str, TablePayload]:
    """An Xporter-shaped JSON document (as schools upload it): ``{"Students": [...],
    "Students_deleted": [...], ..., "AssessmentStructure": {...}}``."""
    if not isinstance(document, Mapping):
        raise ImportRejected("the file is not an Xporter export: expected a JSON object of tables")
    payload: dict[str, TablePayload] = {}
    for key, value in document.items():
        if key.endswith("_deleted") or key.startswith("__") or key == "NextChangedRows":
            continue
        payload[key] = TablePayload(rows=_rows_of(value, key),
                                    deleted=_rows_of(document.get(f"{key}_deleted"), f"{key}_deleted"))
    return payload


# --- Rows ----------------------------------------------------------------------------------------


class _Row:
    """One row of a table, with field readers that name the record and field on failure."""

    def __init__(self, table: str, data):
        if not isinstance(data, Mapping):
            raise ImportRejected(f"{table}: a row is not an object")
        self.table, self.data, self.id = table, data, "?"
        self.id = self.text("Id", max_length=64) if isinstance(data.get("Id"), (str, int)) else ""
        if not self.id:
            raise ImportRejected(f"{table}: a row has no Id")

    def fail(self, name: str, problem: str):
        raise ImportRejected(f"{self.table} row {self.id}: {name} {problem}")

    def scalar(self, name: str):
        """The field's value where it is text, a number or a flag: a list or an object is refused."""
        value = self.data.get(name)
        if isinstance(value, (Mapping, list)):
            self.fail(name, f"is {_kind(value)}, not a value")
        return value

    def text(self, name: str, *, required: bool = False, max_length: int = 200) -> str:
        value = self.scalar(name)
        value = "" if value is None else str(value).strip()
        if required and not value:
            self.fail(name, "is missing")
        if len(value) > max_length:
            self.fail(name, f"is longer than {max_length} characters")
        if "\x00" in value:
            self.fail(name, "holds a NUL character")
        return value

    def list_of_values(self, name: str) -> list | None:
        """A list of ids or emails (None when absent)."""
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, (str, int)) and not isinstance(item, bool)
                                                  for item in value):
            self.fail(name, "is not a list of values")
        if any("\x00" in str(item) for item in value):
            self.fail(name, "holds a NUL character")
        return [str(item).strip() for item in value]

    def date(self, name: str, *, required: bool = False, rule: DateRange = PAST) -> dt.date | None:
        value = self.scalar(name)
        if value in (None, ""):
            if required:
                self.fail(name, "is missing")
            return None
        try:
            if not isinstance(value, str):
                raise ValueError
            day = dt.date.fromisoformat(value[:10])
        except ValueError:
            self.fail(name, f"{str(value)[:40]!r} is not a date (YYYY-MM-DD)")
        if not rule.contains(day):
            self.fail(name, f"{day.isoformat()} is out of range: {rule.message()}")
        return day

    def flag(self, name: str) -> bool:
        value = self.scalar(name)
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        text = "" if value is None else str(value).strip().lower()
        if text in TRUE_STRINGS:
            return True
        if text in FALSE_STRINGS:
            return False
        self.fail(name, f"{value!r} is not a yes/no flag")

    def number(self, name: str, *, limit: Decimal = Decimal("9999.99")) -> Decimal:
        """A finite number no larger than ``limit`` either way (what the column holds)."""
        value = self.scalar(name)
        try:
            if isinstance(value, bool):
                raise ValueError
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            self.fail(name, f"{str(value)[:40]!r} is not a number")
        if not number.is_finite() or abs(number) > limit:
            self.fail(name, f"{str(value)[:40]!r} is not a number between -{limit} and {limit}")
        return number

    @property
    def row_hash(self) -> str:
        return self.text("RowHash", max_length=64)


def _year_group(text: str) -> str:
    return " ".join(text.split())  # Xporter sends "Year  4"


def _parse_pupil(row: _Row) -> dict:
    gender = row.text("Gender").upper()[:1]
    sen = row.text("SENStatus").upper()[:1] or SenProvision.NONE
    if sen not in SenProvision.values:
        row.fail("SENStatus", f"{sen!r} is not one of N, K, E")
    leaving = row.date("LeavingDate", rule=PLANNED)
    return {
        "external_id": row.text("ExternalId", max_length=64), "row_hash": row.row_hash,
        "forename": row.text("Forename", required=True, max_length=100),
        "surname": row.text("Surname", required=True, max_length=100),
        "legal_forename": row.text("LegalForename", max_length=100), "legal_surname": row.text("LegalSurname", max_length=100),
        "date_of_birth": row.date("DateofBirth", rule=BIRTH), "gender": gender if gender in Pupil.Gender.values else Pupil.Gender.OTHER,
        "year_group": _year_group(row.text("YearGroup", max_length=30)), "registration_group": row.text("RegGroup", max_length=30),
        "admission_date": row.date("EntryDate", rule=PLANNED), "leaving_date": leaving,
        "on_roll": leaving is None or leaving > clock.today(),
        "sen_provision": sen, "fsm": row.flag("FSM"), "fsm_ever6": row.flag("FSMEver6"),
        "pupil_premium": row.flag("PupilPremium"), "eal": row.flag("EAL"), "looked_after": row.flag("InCare"),
        "service_child": row.flag("ServiceChild"), "ethnicity_code": row.text("Ethnicity", max_length=10),
        "first_language": row.text("FirstLanguage", max_length=50), "upn": row.text("UPN", max_length=13),
    }


def _parse_parent(row: _Row) -> dict:
    return {"row_hash": row.row_hash, "title": row.text("Title", max_length=20),
            "forename": row.text("Forename", required=True, max_length=100),
            "surname": row.text("Surname", required=True, max_length=100),
            "email": row.text("Email", max_length=254).lower(), "phone": row.text("Mobile", max_length=40)}


# --- The plan ------------------------------------------------------------------------------------


@dataclass
class ImportPlan:
    """Every table's rows, parsed and checked, keyed by Xporter ``Id``; what ``import_apply`` writes.
    References between tables (a result's pupil and aspect, a link's pupil and contact, a group's
    members) are still Xporter ids: they are resolved against the school's records when applied."""

    subjects: dict = field(default_factory=dict)
    grade_sets: dict = field(default_factory=dict)  # xid -> (name, [(label, order, points)])
    aspects: dict = field(default_factory=dict)  # xid -> (subject xid, name, grade set xid, headline)
    pupils: dict = field(default_factory=dict)
    pupils_deleted: list = field(default_factory=list)
    parents: dict = field(default_factory=dict)
    parents_deleted: list = field(default_factory=list)
    links: dict = field(default_factory=dict)  # xid -> (pupil xid, parent xid, values)
    links_deleted: list = field(default_factory=list)
    groups: dict = field(default_factory=dict)  # xid -> (values, member xids, staff emails)
    groups_deleted: list = field(default_factory=list)
    results: dict = field(default_factory=dict)  # xid -> (pupil xid, aspect xid, label, date, row_hash, is_target)
    results_deleted: list = field(default_factory=list)


def import_plan(payload: Mapping[str, TablePayload]) -> ImportPlan:
    """Parse and check every row of every table, writing nothing; the first malformed row raises
    ``ImportRejected``."""
    plan = ImportPlan()
    for structure in payload.get("AssessmentStructure", TablePayload()).rows:
        if not isinstance(structure, Mapping):
            raise ImportRejected("AssessmentStructure: expected an object")
        for data in _rows_of(structure.get("Subjects"), "AssessmentStructure Subjects"):
            row = _Row("Subjects", data)
            plan.subjects[row.id] = row.text("Name", required=True, max_length=60)
        _unique(plan.subjects, "Subjects", "Name", lambda name: f"is {name!r}")
        for data in _rows_of(structure.get("GradeSets"), "AssessmentStructure GradeSets"):
            row = _Row("GradeSets", data)
            grades = []
            for index, grade in enumerate(_rows_of(data.get("Grades"), f"GradeSets row {row.id} Grades")):
                if not isinstance(grade, Mapping):
                    row.fail("Grades", f"entry {index} is not an object")
                grade_row = _Row(f"GradeSets row {row.id} Grades", {**grade, "Id": str(index)})
                grades.append((grade_row.text("Label", required=True, max_length=20), index, grade_row.number("Points")))
            plan.grade_sets[row.id] = (row.text("Name", required=True, max_length=60), grades)
        for data in _rows_of(structure.get("Aspects"), "AssessmentStructure Aspects"):
            row = _Row("Aspects", data)
            plan.aspects[row.id] = (row.text("SubjectId", required=True), row.text("Name", required=True, max_length=80),
                                    row.text("GradeSetId", required=True), row.flag("IsHeadline"))
        _unique({xid: a[0] for xid, a in plan.aspects.items() if a[3]}, "Aspects", "IsHeadline",
                lambda subject: f"makes a second headline aspect for SubjectId {subject!r}")
    students = payload.get("Students", TablePayload())
    plan.pupils = {row.id: _parse_pupil(row) for row in (_Row("Students", d) for d in students.rows)}
    plan.pupils_deleted = _deleted_ids(students.deleted, "Students")
    contacts = payload.get("Contacts", TablePayload())
    plan.parents = {row.id: _parse_parent(row) for row in (_Row("Contacts", d) for d in contacts.rows)}
    plan.parents_deleted = _deleted_ids(contacts.deleted, "Contacts")
    links = payload.get("StudentContacts", TablePayload())
    for data in links.rows:
        row = _Row("StudentContacts", data)
        plan.links[row.id] = (row.text("StudentId", required=True), row.text("ContactId", required=True), {
            "row_hash": row.row_hash, "relationship": row.text("Relationship", max_length=40),
            "priority": _priority(row) if row.data.get("Priority") is not None else 1,
            "parental_responsibility": row.flag("ParentalResponsibility")})
    plan.links_deleted = _deleted_ids(links.deleted, "StudentContacts")
    groups = payload.get("Groups", TablePayload())
    for data in groups.rows:
        row = _Row("Groups", data)
        kind = GROUP_KINDS.get(row.text("GroupType"))
        if kind is None:
            row.fail("GroupType", f"{row.text('GroupType')!r} is not one of {', '.join(GROUP_KINDS)}")
        members = row.list_of_values("MemberIds")
        plan.groups[row.id] = ({"row_hash": row.row_hash, "kind": kind, "name": row.text("Name", required=True, max_length=60)},
                               members, [e.lower() for e in row.list_of_values("StaffEmails") or []])
    plan.groups_deleted = _deleted_ids(groups.deleted, "Groups")
    results = payload.get("AssessmentResults", TablePayload())
    for data in results.rows:
        row = _Row("AssessmentResults", data)
        is_target = row.flag("IsTarget")
        plan.results[row.id] = (row.text("StudentId", required=True), row.text("AspectId", required=True),
                                row.text("Result", required=True, max_length=20),
                                row.date("Date", required=True, rule=PLANNED if is_target else PAST),
                                row.row_hash, is_target)
    _unique({xid: (r[0], r[1], r[3]) for xid, r in plan.results.items() if not r[5]}, "AssessmentResults", "Date",
            lambda key: f"gives a second result for StudentId {key[0]!r} and AspectId {key[1]!r} on {key[2]}")
    plan.results_deleted = _deleted_ids(results.deleted, "AssessmentResults")
    return plan


def _priority(row: _Row) -> int:
    number = row.number("Priority", limit=Decimal(999))
    if number < 0 or number != number.to_integral_value():
        row.fail("Priority", f"{number} is not a whole number from 0 to 999")
    return int(number)


def _unique(values: Mapping[str, object], table: str, field: str, describe) -> None:
    """Refuse a second row of ``table`` with the value of an earlier one, naming both rows."""
    seen: dict[object, str] = {}
    for xid, value in values.items():
        if value in seen:
            raise ImportRejected(f"{table} row {xid}: {field} {describe(value)}, as in row {seen[value]}")
        seen[value] = xid


def _deleted_ids(rows: Iterable, table: str) -> list[str]:
    ids = []
    for item in rows:
        value = item.get("Id") if isinstance(item, Mapping) else item
        if not isinstance(value, (str, int)) or isinstance(value, bool) or "\x00" in str(value):
            raise ImportRejected(f"{table}_deleted: an entry has no Id")
        xid = str(value).strip()
        if not xid:
            raise ImportRejected(f"{table}_deleted: an entry has no Id")
        ids.append(xid)
    return ids
