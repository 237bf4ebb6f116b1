"""Turn Xporter rows into the school's pupils, parents and carers, groups, results and targets.

Two phases. First every row of every table is parsed and checked; a malformed row raises
``ImportRejected`` naming the table, the row's Id and the field, before anything is written. Then
everything is applied in one transaction: rows whose ``RowHash`` is unchanged are skipped, new ones
bulk-created, changed ones bulk-updated, and rows listed in ``{Table}_deleted`` removed (pupils are
marked as having left instead, so their records follow the school's retention rule).

Pupils are keyed on Xporter's ``Id`` within the school, never on the UPN.

Checked before anything is written: JSON that is not JSON (or nested too deep to read, or holding
NaN, Infinity or a number too large for a float), values of the wrong type (``"Subjects": 5``, an
object where text belongs), numbers that are not finite or do not fit, NUL characters, dates
outside ``shared.dates``' ranges, and two results for one pupil, aspect and date (or two targets
for one pupil and subject). A conflict the checks miss is still refused as ``ImportRejected``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import DataError, IntegrityError, transaction
from django.db.models import Model, Q

from shared import clock
from shared.dates import BIRTH, PAST, PLANNED, DateRange
from tenants.assessment.models import Aspect, Grade, GradeSet, Result, Subject, Target
from tenants.pupils.models import Group, ParentCarer, Pupil, PupilParent, SenProvision
from tenants.users.models import User

BATCH = 5000
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


# --- Parsing ---------------------------------------------------------------------------------------


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


# --- Applying -------------------------------------------------------------------------------------


@dataclass
class ImportCounts:
    counts: Counter = field(default_factory=Counter)

    def add(self, table: str, what: str, n: int = 1) -> None:
        if n:
            self.counts[f"{table}.{what}"] += n

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


def _upsert(model: type[Model], parsed: dict[str, dict], *, table: str, counts: ImportCounts) -> dict[str, int]:
    """Create or update ``model`` rows keyed by xporter_id, leaving unchanged rows alone: those
    whose RowHash is the same, or (for models without one) whose values are. Returns
    xporter_id -> pk for every row of the model."""
    fields = list(next(iter(parsed.values())).keys())
    compare = ["row_hash"] if "row_hash" in fields else fields
    existing = {row.pop("xporter_id"): row for row in model.objects.values("xporter_id", "pk", *compare)}
    new, changed = [], []
    for xid, values in parsed.items():
        current = existing.get(xid)
        if current is None:
            new.append(model(xporter_id=xid, **values))
        elif any(current[name] != values[name] for name in compare) or not values.get("row_hash", True):
            changed.append(model(pk=current["pk"], xporter_id=xid, **values))
    if new:
        model.objects.bulk_create(new, batch_size=BATCH)
    if changed:
        model.objects.bulk_update(changed, fields=fields, batch_size=BATCH)
    counts.add(table, "created", len(new))
    counts.add(table, "updated", len(changed))
    counts.add(table, "unchanged", len(parsed) - len(new) - len(changed))
    ids = {xid: row["pk"] for xid, row in existing.items()}
    ids.update((obj.xporter_id, obj.pk) for obj in new)
    return ids


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


def import_payload(payload: Mapping[str, TablePayload]) -> ImportCounts:
    """Check every row, then apply them all in one transaction. Returns what changed."""
    plan = _parse(payload)
    counts = ImportCounts()
    try:
        with transaction.atomic():
            _apply(plan, counts)
    except IntegrityError as error:
        # The checks above should leave nothing for the database to refuse; where they miss a
        # clash, it is still the file's fault, and the transaction has changed nothing.
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) or "a unique rule"
        raise ImportRejected(f"the import clashes with the school's records ({constraint})") from None
    except DataError:
        raise ImportRejected("a value in the import does not fit the school's records") from None
    return counts


@dataclass
class _Plan:
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


def _parse(payload: Mapping[str, TablePayload]) -> _Plan:
    plan = _Plan()
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


def _withhold(plan: _Plan, counts: ImportCounts) -> None:
    """Leave out of the import the people the school must not process: anyone erased (the ledger
    knows their Xporter ids by digest) and anyone whose processing is restricted or objected to
    (their records are kept as they are: not updated, no new results)."""
    from shared.schools.selectors import school_current
    from shared.privacy.requests.ledger import erased_digests, xporter_digest

    school = school_current()
    erased = {label: erased_digests(school, label) for label in ("pupils.Pupil", "pupils.ParentCarer")}
    # A digest per incoming row only when the school has erased someone of that kind.
    gone_pupils = {xid for xid in plan.pupils if xporter_digest(school.schema_name, xid) in erased["pupils.Pupil"]} \
        if erased["pupils.Pupil"] else set()
    gone_parents = {xid for xid in plan.parents if xporter_digest(school.schema_name, xid) in erased["pupils.ParentCarer"]} \
        if erased["pupils.ParentCarer"] else set()
    held_pupils = set(Pupil.objects.filter(Q(processing_restricted=True) | Q(processing_objected=True))
                      .exclude(xporter_id=None).values_list("xporter_id", flat=True))
    held_parents = set(ParentCarer.objects.filter(Q(processing_restricted=True) | Q(processing_objected=True))
                       .exclude(xporter_id=None).values_list("xporter_id", flat=True))
    skip_pupils, skip_parents = gone_pupils | held_pupils, gone_parents | held_parents
    if not (skip_pupils or skip_parents):
        return
    counts.add("Students", "erased, not imported", len(gone_pupils))
    counts.add("Contacts", "erased, not imported", len(gone_parents))
    counts.add("Students", "restricted, left as they are", len(held_pupils & set(plan.pupils)))
    plan.pupils = {xid: values for xid, values in plan.pupils.items() if xid not in skip_pupils}
    plan.parents = {xid: values for xid, values in plan.parents.items() if xid not in skip_parents}
    plan.links = {xid: link for xid, link in plan.links.items() if link[0] not in skip_pupils and link[1] not in skip_parents}
    plan.results = {xid: row for xid, row in plan.results.items() if row[0] not in skip_pupils}
    plan.groups = {xid: (values, None if members is None else [m for m in members if m not in gone_pupils], staff)
                   for xid, (values, members, staff) in plan.groups.items()}


def _apply(plan: _Plan, counts: ImportCounts) -> None:
    _withhold(plan, counts)
    subject_ids = _upsert(Subject, {xid: {"name": name} for xid, name in plan.subjects.items()},
                          table="Subjects", counts=counts) if plan.subjects else dict(Subject.objects.values_list("xporter_id", "pk"))
    if plan.grade_sets:
        grade_set_ids = _upsert(GradeSet, {xid: {"name": name} for xid, (name, _) in plan.grade_sets.items()},
                                table="GradeSets", counts=counts)
        for xid, (_, grades) in plan.grade_sets.items():
            for label, order, points in grades:
                Grade.objects.update_or_create(grade_set_id=grade_set_ids[xid], label=label,
                                               defaults={"order": order, "points": points})
    else:
        grade_set_ids = dict(GradeSet.objects.values_list("xporter_id", "pk"))
    if plan.aspects:
        parsed_aspects = {}
        for xid, (subject_xid, name, grade_set_xid, headline) in plan.aspects.items():
            if subject_xid not in subject_ids:
                raise ImportRejected(f"Aspects row {xid}: SubjectId {subject_xid!r} is not a subject")
            if grade_set_xid not in grade_set_ids:
                raise ImportRejected(f"Aspects row {xid}: GradeSetId {grade_set_xid!r} is not a grade set")
            parsed_aspects[xid] = {"subject_id": subject_ids[subject_xid], "name": name,
                                   "grade_set_id": grade_set_ids[grade_set_xid], "is_headline": headline}
        _upsert(Aspect, parsed_aspects, table="Aspects", counts=counts)

    pupil_ids = _upsert(Pupil, plan.pupils, table="Students", counts=counts) if plan.pupils \
        else dict(Pupil.objects.values_list("xporter_id", "pk"))
    if plan.pupils_deleted:
        left = Pupil.objects.filter(xporter_id__in=plan.pupils_deleted, on_roll=True)
        counts.add("Students", "left", left.update(on_roll=False))
        Pupil.objects.filter(xporter_id__in=plan.pupils_deleted, leaving_date__isnull=True).update(leaving_date=clock.today())

    parent_ids = _upsert(ParentCarer, plan.parents, table="Contacts", counts=counts) if plan.parents \
        else dict(ParentCarer.objects.values_list("xporter_id", "pk"))
    if plan.parents_deleted:
        counts.add("Contacts", "deleted", ParentCarer.objects.filter(xporter_id__in=plan.parents_deleted).delete()[1].get(
            ParentCarer._meta.label, 0))

    if plan.links:
        parsed_links = {}
        for xid, (pupil_xid, parent_xid, values) in plan.links.items():
            if pupil_xid not in pupil_ids:
                raise ImportRejected(f"StudentContacts row {xid}: StudentId {pupil_xid!r} is not a pupil")
            if parent_xid not in parent_ids:
                raise ImportRejected(f"StudentContacts row {xid}: ContactId {parent_xid!r} is not a contact")
            parsed_links[xid] = {"pupil_id": pupil_ids[pupil_xid], "parent_id": parent_ids[parent_xid], **values}
        _upsert(PupilParent, parsed_links, table="StudentContacts", counts=counts)
    if plan.links_deleted:
        counts.add("StudentContacts", "deleted", PupilParent.objects.filter(xporter_id__in=plan.links_deleted).delete()[0])

    if plan.groups:
        existing_hashes = dict(Group.objects.values_list("xporter_id", "row_hash"))
        group_ids = _upsert(Group, {xid: values for xid, (values, _, _) in plan.groups.items()}, table="Groups", counts=counts)
        _memberships_set(plan, group_ids, pupil_ids, existing_hashes)
    if plan.groups_deleted:
        counts.add("Groups", "deleted", Group.objects.filter(xporter_id__in=plan.groups_deleted).delete()[1].get(
            Group._meta.label, 0))

    if plan.results:
        _results_apply(plan, pupil_ids, counts)
    if plan.results_deleted:
        gone = Result.objects.filter(xporter_id__in=plan.results_deleted).delete()[0]
        gone += Target.objects.filter(xporter_id__in=plan.results_deleted).delete()[0]
        counts.add("AssessmentResults", "deleted", gone)


def _memberships_set(plan: _Plan, group_ids: dict, pupil_ids: dict, existing_hashes: dict) -> None:
    staff = {email.lower(): pk for email, pk in User.objects.filter(role__in=[User.Role.TEACHER, User.Role.SCHOOL_ADMIN])
             .values_list("email", "pk")}
    Members, Staff = Group.pupils.through, Group.staff.through
    touched = [xid for xid, (values, members, _) in plan.groups.items()
               if members is not None and (not values["row_hash"] or values["row_hash"] != existing_hashes.get(xid))]
    if not touched:
        return
    touched_pks = [group_ids[xid] for xid in touched]
    Members.objects.filter(group_id__in=touched_pks).delete()
    Staff.objects.filter(group_id__in=touched_pks).delete()
    member_rows, staff_rows = [], []
    for xid in touched:
        _, members, emails = plan.groups[xid]
        for member in members:
            if member not in pupil_ids:
                raise ImportRejected(f"Groups row {xid}: MemberIds has {member!r}, which is not a pupil")
            member_rows.append(Members(group_id=group_ids[xid], pupil_id=pupil_ids[member]))
        staff_rows.extend(Staff(group_id=group_ids[xid], user_id=staff[e]) for e in emails if e in staff)
    Members.objects.bulk_create(member_rows, batch_size=BATCH, ignore_conflicts=True)
    Staff.objects.bulk_create(staff_rows, batch_size=BATCH, ignore_conflicts=True)


def _results_apply(plan: _Plan, pupil_ids: dict, counts: ImportCounts) -> None:
    aspects = {a.xporter_id: a for a in Aspect.objects.exclude(xporter_id=None)}
    grades = {(g.grade_set_id, g.label): g.pk for g in Grade.objects.all()}
    results, targets = {}, {}
    for xid, (pupil_xid, aspect_xid, label, day, row_hash, is_target) in plan.results.items():
        if pupil_xid not in pupil_ids:
            raise ImportRejected(f"AssessmentResults row {xid}: StudentId {pupil_xid!r} is not a pupil")
        aspect = aspects.get(aspect_xid)
        if aspect is None:
            raise ImportRejected(f"AssessmentResults row {xid}: AspectId {aspect_xid!r} is not an aspect")
        grade = grades.get((aspect.grade_set_id, label))
        if grade is None:
            raise ImportRejected(f"AssessmentResults row {xid}: Result {label!r} is not a grade of {aspect}")
        if is_target:
            targets[xid] = {"pupil_id": pupil_ids[pupil_xid], "subject_id": aspect.subject_id, "grade_id": grade,
                            "due_on": day, "row_hash": row_hash}
        else:
            results[xid] = {"pupil_id": pupil_ids[pupil_xid], "aspect_id": aspect.pk, "grade_id": grade,
                            "recorded_on": day, "row_hash": row_hash}
    _no_second(Result, results, ("pupil_id", "aspect_id", "recorded_on"), plan,
               "Date gives a second result for that pupil and aspect on {recorded_on}")
    _no_second(Target, targets, ("pupil_id", "subject_id"), plan, "IsTarget gives a second target for that pupil and subject")
    if results:
        _upsert(Result, results, table="AssessmentResults", counts=counts)
    if targets:
        _upsert(Target, targets, table="Targets", counts=counts)


def _no_second(model: type[Model], rows: dict[str, dict], key: tuple[str, ...], plan: _Plan, problem: str) -> None:
    """Refuse a row that would be a second one under ``model``'s unique ``key``: against the other
    rows of the import, and against what the school holds already (a result typed on the
    marksheet, or one Xporter sent under another Id) unless this import deletes or moves it."""
    seen: dict[tuple, str] = {}
    for xid, values in rows.items():
        value = tuple(values[name] for name in key)
        if value in seen:
            raise ImportRejected(f"AssessmentResults row {xid}: {problem.format(**values)}, as in row {seen[value]}")
        seen[value] = xid
    if not seen:
        return
    leaving = set(rows) | set(plan.results_deleted)
    held = model.objects.filter(pupil_id__in={v[0] for v in seen}).values_list(*key, "xporter_id")
    for *value, holder in held:
        xid = seen.get(tuple(value))
        if xid is not None and holder != xid and (holder is None or holder not in leaving):
            where = "a result typed at the school" if holder is None else f"row {holder} of an earlier import"
            raise ImportRejected(f"AssessmentResults row {xid}: {problem.format(**rows[xid])}, as {where}")
