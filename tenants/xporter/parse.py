"""Read an Xporter export into an import plan: every row of every table parsed and checked, with
nothing written. ``tenants.xporter.apply`` writes the plan to the school's schema.

Rows are read as Groupcall documents and records them (the project's Xporter reference, sections
4.8 and 7): result sets under their own keys (``Students``, ``StudentContact``, ``Group``,
``Aspects``, ``AsmResults``...), keys matched without regard to case, ids as text, flags 0/1 (but
``ServiceChild`` ``"0"``), comma-separated id lists, and fields outside the school's consent
scopes left out of the row: an absent field leaves the stored value alone, a null clears it.
Timestamps (``LastUpdated``) carry no time zone; they are UK local time, and nothing here reads
them beyond the date.

A malformed row raises ``ImportRejected`` naming the table, the row's Id and the field. Checked
here: JSON that is not JSON (or nested too deep to read, or holding NaN, Infinity or a number too
large for a float), values of the wrong type (``"Subjects": 5``, an object where text belongs),
numbers that are not finite or do not fit, NUL characters, dates outside ``shared.dates``' ranges,
and two results for one pupil, aspect and date (or two targets for one pupil and subject) within
the file.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from shared import clock
from shared.dates import BIRTH, PAST, PLANNED, DateRange
from tenants.pupils.models import Group, Pupil, SenProvision

GROUP_KINDS = {"YearGrp": Group.Kind.YEAR, "RegGrp": Group.Kind.REGISTRATION, "TeachingGrp": Group.Kind.TEACHING}
SKIPPED_GROUP_KINDS = {"HouseGrp": "house groups"}
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
    """A list of rows (Xporter sends every result set as an array); anything else is refused."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportRejected(f"{where}: expected a list of rows, not {_kind(value)}")
    return value


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


# Result-set keys Xporter answers with (reference section 4.1), matched without regard to case;
# ``AsmResults`` is Groupcall's own name for assessment results in its key tables (never observed).
RESULT_SETS = ("Students", "Contacts", "StudentContact", "Group", "Staff", "Aspects", "ResultSets", "Categories",
               "GradeSets", "GradeSetHistory", "Grades", "AsmResults")
# Names this importer once read that Xporter never sends: refused with the documented name, so an
# old file is not imported as if it were empty.
NOT_XPORTER = {"studentcontacts": "StudentContact", "groups": "Group", "assessmentstructure": "Aspects, ResultSets, GradeSets and Grades",
               "assessmentresults": "AsmResults"}


def payload_from_xporter_json(document: Mapping) -> dict[str, TablePayload]:
    """An Xporter-shaped JSON document (as schools upload it, or as one answer of Xporter):
    result sets as top-level arrays of rows under their documented keys, ``{Key}_deleted`` beside
    them, metadata (``meta``, ``__pagination__``, ``__changedRows__``) and other result sets ignored."""
    if not isinstance(document, Mapping):
        raise ImportRejected("the file is not an Xporter export: expected a JSON object of tables")
    folded = {str(key).casefold(): (key, value) for key, value in document.items()}
    for old, documented in NOT_XPORTER.items():
        if old in folded:
            raise ImportRejected(f"{folded[old][0]}: not a result set Xporter sends (it sends {documented})")
    payload: dict[str, TablePayload] = {}
    for name in RESULT_SETS:
        key, value = folded.get(name.casefold(), (name, None))
        gone_key, gone = folded.get(f"{name}_deleted".casefold(), (f"{name}_deleted", None))
        if value is not None or gone is not None:
            payload[name] = TablePayload(rows=_rows_of(value, key), deleted=_rows_of(gone, gone_key))
    return payload


def payload_from_results(results: Iterable) -> dict[str, TablePayload]:
    """What a sync fetched (``tenants.xporter.client.XporterResult``s): every result set of every
    endpoint, by its documented key."""
    merged: dict[str, dict[str, list]] = {}
    for result in results:
        tables = getattr(result, "tables", None)
        tables = {result.endpoint: result.rows} if tables is None else tables
        deleted = getattr(result, "deleted_tables", None)
        deleted = {result.endpoint: result.deleted} if deleted is None else deleted
        for name, rows in tables.items():
            merged.setdefault(name, {"rows": [], "deleted": []})["rows"].extend(rows or [])
        for name, rows in deleted.items():
            merged.setdefault(name, {"rows": [], "deleted": []})["deleted"].extend(rows or [])
    return payload_from_xporter_json({**{k: v["rows"] for k, v in merged.items()},
                                      **{f"{k}_deleted": v["deleted"] for k, v in merged.items()}})


# --- Rows ----------------------------------------------------------------------------------------


class _Row:
    """One row of a table, with field readers that name the record and field on failure."""

    def __init__(self, table: str, data):
        if not isinstance(data, Mapping):
            raise ImportRejected(f"{table}: a row is not an object")
        # Xporter's key casing varies between its documentation and its answers (FsmEligible,
        # FSMEligible): every field is looked up without regard to case.
        self.table, self.data, self.id = table, {str(key).casefold(): value for key, value in data.items()}, "?"
        self.id = self.text("Id", max_length=64) if isinstance(self.get("Id"), (str, int)) else ""
        if not self.id:
            raise ImportRejected(f"{table}: a row has no Id")

    def fail(self, name: str, problem: str):
        raise ImportRejected(f"{self.table} row {self.id}: {name} {problem}")

    def get(self, name: str):
        return self.data.get(name.casefold())

    def has(self, name: str) -> bool:
        """Whether the row carries the field at all: Xporter leaves out the fields outside the
        school's consent scopes, and an absent field leaves what the school holds alone."""
        return name.casefold() in self.data

    def scalar(self, name: str):
        """The field's value where it is text, a number or a flag: a list or an object is refused."""
        value = self.get(name)
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
        value = self.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, (str, int)) and not isinstance(item, bool)
                                                  for item in value):
            self.fail(name, "is not a list of values")
        if any("\x00" in str(item) for item in value):
            self.fail(name, "holds a NUL character")
        return [str(item).strip() for item in value]

    def id_list(self, name: str) -> list[str] | None:
        """Ids as Xporter sends them, one comma-separated text (``"9919,9925"``); None when absent."""
        if not self.has(name):
            return None
        value = self.text(name, max_length=1_000_000)
        return [item.strip() for item in value.split(",") if item.strip()]

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
        earliest, latest = _bounds(rule, clock.today())
        if not earliest <= day <= latest:
            self.fail(name, f"{day.isoformat()} is out of range: {rule.message()}")
        return day

    def flag(self, name: str) -> bool:
        value = self.scalar(name)
        if isinstance(value, bool):
            return value
        # Flags are 0/1 integers, but ServiceChild comes as the text "0" or "1".
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


@functools.lru_cache(maxsize=16)
def _bounds(rule: DateRange, today: dt.date) -> tuple[dt.date, dt.date]:
    """A rule's bounds on ``today``, worked out once a day rather than for each of 60,000 results."""
    return rule.bounds()


def _year_group(text: str) -> str:
    return " ".join(text.split())  # Xporter sends "Year  4"


# SENProvision codes: N none, K SEN support, E an EHC plan. S (a statement), A and P (School
# Action, Action Plus) are the codes they replaced in 2014; a school's older records still carry them.
SEN_CODES = {"": SenProvision.NONE, "N": SenProvision.NONE, "K": SenProvision.SUPPORT, "E": SenProvision.EHCP,
             "S": SenProvision.EHCP, "A": SenProvision.SUPPORT, "P": SenProvision.SUPPORT}


def _present(row: _Row, fields: dict) -> dict:
    """``fields`` (model field -> reader of the Xporter field) for the fields the row carries."""
    return {model_field: read() for model_field, (name, read) in fields.items() if row.has(name)}


def _parse_link(row: _Row) -> dict:
    """A StudentContact row's values, only for the fields it carries."""
    return _present(row, {
        "row_hash": ("RowHash", lambda: row.row_hash),
        "relationship": ("Relationship", lambda: row.text("Relationship", max_length=40)),
        "priority": ("Priority", lambda: _priority(row) if row.get("Priority") is not None else 1),
        "parental_responsibility": ("ParResp", lambda: row.flag("ParResp"))})


def _parse_pupil(row: _Row) -> dict:
    """A Students row as the model's values, only for the fields the row carries: an absent field
    (outside the school's consent scopes) keeps what the school holds, a null clears it."""
    def gender():
        value = row.text("Gender").upper()[:1]
        return value if value in Pupil.Gender.values else Pupil.Gender.OTHER

    def sen():
        code = row.text("SENProvision").upper()
        if code not in SEN_CODES:
            row.fail("SENProvision", f"{code[:10]!r} is not one of N, K, E (or the older S, A, P)")
        return SEN_CODES[code]

    values = _present(row, {
        "external_id": ("ExternalId", lambda: row.text("ExternalId", max_length=64)),
        "row_hash": ("RowHash", lambda: row.row_hash),
        "legal_forename": ("LegalForename", lambda: row.text("LegalForename", max_length=100)),
        "legal_surname": ("LegalSurname", lambda: row.text("LegalSurname", max_length=100)),
        "date_of_birth": ("DateofBirth", lambda: row.date("DateofBirth", rule=BIRTH)),
        "gender": ("Gender", gender),
        "year_group": ("YearGroup", lambda: _year_group(row.text("YearGroup", max_length=30))),
        "registration_group": ("RegGroup", lambda: row.text("RegGroup", max_length=30)),
        "admission_date": ("EntryDate", lambda: row.date("EntryDate", rule=PLANNED)),
        "leaving_date": ("LeavingDate", lambda: row.date("LeavingDate", rule=PLANNED)),
        "sen_provision": ("SENProvision", sen),
        "fsm": ("FSMEligible", lambda: row.flag("FSMEligible")),
        "fsm_ever6": ("FSMEver6", lambda: row.flag("FSMEver6")),
        "pupil_premium": ("PupilPremium", lambda: row.flag("PupilPremium")),
        "eal": ("EAL", lambda: row.flag("EAL")),
        "looked_after": ("InLeaCare", lambda: row.flag("InLeaCare")),
        "ever_in_care": ("EverInCare", lambda: row.flag("EverInCare")),
        "service_child": ("ServiceChild", lambda: row.flag("ServiceChild")),
        # The code: ``Ethnicity`` is its description ("White - British"), too long for the field.
        "ethnicity_code": ("EthnicityCode", lambda: row.text("EthnicityCode", max_length=10)),
        "first_language": ("FirstLanguageCode", lambda: row.text("FirstLanguageCode", max_length=50)),
        "upn": ("UPN", lambda: row.text("UPN", max_length=13)),
    })
    values["forename"] = row.text("Forename", required=True, max_length=100)
    values["surname"] = row.text("Surname", required=True, max_length=100)
    if "leaving_date" in values:
        values["on_roll"] = pupil_on_roll(values["leaving_date"], clock.today())
    return values


def pupil_on_roll(leaving_date: dt.date | None, today: dt.date) -> bool:
    """On roll until the leaving date: through that day, a leaver from the day after."""
    return leaving_date is None or leaving_date >= today


def _parse_parent(row: _Row) -> dict:
    def first_of(*names, max_length):
        return lambda: next((text for text in (row.text(n, max_length=max_length) for n in names if row.has(n)) if text), "")

    values = _present(row, {
        "row_hash": ("RowHash", lambda: row.row_hash),
        "title": ("Title", lambda: row.text("Title", max_length=20)),
        "forename": ("Forename", lambda: row.text("Forename", max_length=100)),
    })
    if row.has("HomeEmail") or row.has("WorkEmail"):
        values["email"] = first_of("HomeEmail", "WorkEmail", max_length=254)().lower()
    if row.has("MobilePhone") or row.has("HomePhone") or row.has("WorkPhone"):
        values["phone"] = first_of("MobilePhone", "HomePhone", "WorkPhone", max_length=40)()
    values["surname"] = row.text("Surname", required=True, max_length=100)
    return values


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
    target_result_sets: set = field(default_factory=set)
    aspects_skipped: set = field(default_factory=set)
    skipped: Counter = field(default_factory=Counter)  # "Table.what" -> rows left out, and why


def import_plan(payload: Mapping[str, TablePayload]) -> ImportPlan:
    """Parse and check every row of every result set, writing nothing; the first malformed row
    raises ``ImportRejected``."""
    plan = ImportPlan()
    table = lambda name: payload.get(name, TablePayload())  # noqa: E731
    _plan_structure(plan, table)
    students = table("Students")
    plan.pupils = {row.id: _parse_pupil(row) for row in (_Row("Students", d) for d in students.rows)}
    plan.pupils_deleted = _deleted_ids(students.deleted, "Students")
    contacts = table("Contacts")
    plan.parents = {row.id: _parse_parent(row) for row in (_Row("Contacts", d) for d in contacts.rows)}
    plan.parents_deleted = _deleted_ids(contacts.deleted, "Contacts")
    links = table("StudentContact")
    for data in links.rows:
        row = _Row("StudentContact", data)
        plan.links[row.id] = (row.text("StudentId", required=True), row.text("ContactId", required=True),
                              _parse_link(row))
    plan.links_deleted = _deleted_ids(links.deleted, "StudentContact")
    # Staff come by their Xporter Id (``StaffIds``, ``PrimaryStaffId``); the school's users are
    # matched on the work email the Staff result set gives for that Id.
    staff_email = {}
    for data in table("Staff").rows:
        row = _Row("Staff", data)
        staff_email[row.id] = row.text("WorkEmail", max_length=254).lower()
    groups = table("Group")
    for data in groups.rows:
        row = _Row("Group", data)
        kind_name = row.text("Type", required=True)
        if kind_name in SKIPPED_GROUP_KINDS:
            plan.skipped[f"Group.{SKIPPED_GROUP_KINDS[kind_name]}, not imported"] += 1
            continue
        kind = GROUP_KINDS.get(kind_name)
        if kind is None:
            row.fail("Type", f"{kind_name!r} is not one of {', '.join([*GROUP_KINDS, *SKIPPED_GROUP_KINDS])}")
        values = {"kind": kind, "name": row.text("Name", required=True, max_length=60)}
        if row.has("RowHash"):
            values["row_hash"] = row.row_hash
        staff = row.id_list("StaffIds") or ([row.text("PrimaryStaffId")] if row.text("PrimaryStaffId") else [])
        plan.groups[row.id] = (values, row.id_list("StudentIds"), [staff_email[s] for s in staff if staff_email.get(s)])
    plan.groups_deleted = _deleted_ids(groups.deleted, "Group")
    results = table("AsmResults")
    for data in results.rows:
        row = _Row("AsmResults", data)
        aspect = row.text("AspectId", required=True)
        if aspect in plan.aspects_skipped:
            plan.skipped["AsmResults.of an aspect that is not graded, not imported"] += 1
            continue
        is_target = row.text("ResultSetId") in plan.target_result_sets
        plan.results[row.id] = (row.text("StudentId", required=True), aspect,
                                row.text("Result", required=True, max_length=20),
                                row.date("ResultDate", required=True, rule=PLANNED if is_target else PAST),
                                row.row_hash, is_target)
    _unique({xid: (r[0], r[1], r[3]) for xid, r in plan.results.items() if not r[5]}, "AsmResults", "ResultDate",
            lambda key: f"gives a second result for StudentId {key[0]!r} and AspectId {key[1]!r} on {key[2]}")
    plan.results_deleted = _deleted_ids(results.deleted, "AsmResults")
    return plan


def _plan_structure(plan: ImportPlan, table) -> None:
    """The assessment structure (reference section 7.6). Xporter has no subjects: each aspect name
    is filed as a subject, its first aspect the headline one. A result set whose name says
    "Target" holds targets (some schools keep targets so); every other result is a result."""
    history = {}
    for data in table("GradeSetHistory").rows:
        row = _Row("GradeSetHistory", data)
        history[row.id] = row.text("GradeSetId", required=True)
    for data in table("GradeSets").rows:
        row = _Row("GradeSets", data)
        plan.grade_sets[row.id] = (row.text("Name", required=True, max_length=60), [])
    for index, data in enumerate(table("Grades").rows):
        row = _Row("Grades", data)
        grade_set = history.get(row.text("GradeSetHistoryId")) or row.text("GradeSetId")
        if grade_set not in plan.grade_sets:
            row.fail("GradeSetHistoryId", f"{row.text('GradeSetHistoryId')!r} is not the history of a grade set")
        order = int(row.number("DisplayOrder", limit=Decimal(32767))) if row.get("DisplayOrder") is not None else index
        points = row.number("NumericValue") if row.get("NumericValue") is not None else Decimal(order)
        plan.grade_sets[grade_set][1].append((row.text("Value", required=True, max_length=20), order, points))
    subject_of_name: dict[str, str] = {}
    for data in table("Aspects").rows:
        row = _Row("Aspects", data)
        name = row.text("Name", required=True, max_length=80)
        grade_set = row.text("GradeSetId")
        if not grade_set:
            plan.aspects_skipped.add(row.id)
            plan.skipped["Aspects.not graded, not imported"] += 1
            continue
        headline = name not in subject_of_name
        subject = subject_of_name.setdefault(name, row.id)
        plan.subjects.setdefault(subject, name[:60])
        plan.aspects[row.id] = (subject, name, grade_set, headline)
    for data in table("ResultSets").rows:
        row = _Row("ResultSets", data)
        if "target" in row.text("Name").casefold():
            plan.target_result_sets.add(row.id)


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
