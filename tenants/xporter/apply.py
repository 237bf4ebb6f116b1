"""Write an import plan (``tenants.xporter.parse``) to the school's schema, in one transaction.

Rows whose ``RowHash`` is unchanged are skipped, new ones bulk-created, changed ones bulk-updated,
and rows listed in ``{Table}_deleted`` removed (pupils are marked as having left instead, so their
records follow the school's retention rule). People the school must not process are withheld:
anyone erased (known to the erasure ledger by a digest of their Xporter id) and anyone whose
processing is restricted or objected to. Pupils are keyed on Xporter's ``Id`` within the school,
never on the UPN.

What only the school's records can tell is checked here: references to pupils, contacts, aspects
and grades that do not exist, and a result or target that would be a second one beside what the
school holds. A conflict the checks miss is still refused as ``ImportRejected``, and the
transaction has changed nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import DataError, IntegrityError, transaction
from django.db.models import Model, Q

from shared import clock
from tenants.assessment import calendar
from tenants.assessment.models import Aspect, Grade, GradeSet, Result, Subject, Target
from tenants.assessment.standards import standards_guess
from tenants.pupils.models import Group, ParentCarer, Pupil, PupilParent
from tenants.users.models import User
from tenants.xporter.parse import ImportPlan, ImportRejected, TablePayload, import_plan

BATCH = 5000


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
    # Rows may carry different fields (Xporter leaves out those outside the school's consent
    # scopes): a row updates only the fields it carries, and a new row takes the model's defaults.
    fields = sorted({name for values in parsed.values() for name in values})
    compare = ["row_hash"] if "row_hash" in fields else fields
    existing = {row.pop("xporter_id"): row for row in model.objects.values("xporter_id", "pk", *compare)}
    new, changed = [], {}
    for xid, values in parsed.items():
        current = existing.get(xid)
        if current is None:
            new.append(model(xporter_id=xid, **values))
        elif any(current[name] != values.get(name, current[name]) for name in compare) or not values.get("row_hash", True):
            changed.setdefault(tuple(sorted(values)), []).append(model(pk=current["pk"], xporter_id=xid, **values))
    if new:
        model.objects.bulk_create(new, batch_size=BATCH)
    for changed_fields, rows in changed.items():
        model.objects.bulk_update(rows, fields=list(changed_fields), batch_size=BATCH)
    changed = [row for rows in changed.values() for row in rows]
    counts.add(table, "created", len(new))
    counts.add(table, "updated", len(changed))
    counts.add(table, "unchanged", len(parsed) - len(new) - len(changed))
    ids = {xid: row["pk"] for xid, row in existing.items()}
    ids.update((obj.xporter_id, obj.pk) for obj in new)
    return ids


def import_payload(payload: Mapping[str, TablePayload]) -> ImportCounts:
    """Check every row, then apply them all in one transaction. Returns what changed."""
    return import_apply(import_plan(payload))


def import_apply(plan: ImportPlan) -> ImportCounts:
    """Write a checked plan to the school's schema in one transaction: all of it, or (raising
    ``ImportRejected``) nothing. Returns what changed."""
    counts = ImportCounts()
    try:
        with transaction.atomic():
            _plan_write(plan, counts)
    except IntegrityError as error:
        # The checks should leave nothing for the database to refuse; where they miss a
        # clash, it is still the file's fault, and the transaction has changed nothing.
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) or "a unique rule"
        raise ImportRejected(f"the import clashes with the school's records ({constraint})") from None
    except DataError:
        raise ImportRejected("a value in the import does not fit the school's records") from None
    return counts


# Deletions an import asks for leave restricted or objected-to pupils and parents as they are, as
# updates do (``_withhold``): their rows, their links and their results stay.
_NOT_HELD = Q(processing_restricted=False, processing_objected=False)


def _held_not(relation: str) -> Q:
    return Q(**{f"{relation}__processing_restricted": False, f"{relation}__processing_objected": False})


def _withhold(plan: ImportPlan, counts: ImportCounts) -> None:
    """Leave out of the import the people the school must not process: anyone erased (the ledger
    knows their Xporter ids by digest) and anyone whose processing is restricted or objected to
    (their records are kept as they are: not updated, no new results)."""
    from shared.privacy.requests.ledger import erased_digests, xporter_digest
    from shared.schools.selectors import school_current

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


def _plan_write(plan: ImportPlan, counts: ImportCounts) -> None:
    for what, n in plan.skipped.items():
        counts.add(*what.split(".", 1), n)
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
        for grade_set in GradeSet.objects.filter(pk__in=grade_set_ids.values(), expected_from=None):
            standards_guess(grade_set)
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
        # Gone from Xporter: a leaver from the import's day, unless they left earlier (a pupil whose
        # processing is restricted or objected to is left as they are).
        gone = Pupil.objects.filter(xporter_id__in=plan.pupils_deleted).filter(_NOT_HELD)
        counts.add("Students", "left", gone.filter(on_roll=True).update(on_roll=False))
        gone.filter(Q(leaving_date__isnull=True) | Q(leaving_date__gt=clock.today())).update(leaving_date=clock.today())

    parent_ids = _upsert(ParentCarer, plan.parents, table="Contacts", counts=counts) if plan.parents \
        else dict(ParentCarer.objects.values_list("xporter_id", "pk"))
    if plan.parents_deleted:
        counts.add("Contacts", "deleted", ParentCarer.objects.filter(xporter_id__in=plan.parents_deleted)
                   .filter(_NOT_HELD).delete()[1].get(ParentCarer._meta.label, 0))

    if plan.links:
        parsed_links = {}
        for xid, (pupil_xid, parent_xid, values) in plan.links.items():
            if pupil_xid not in pupil_ids:
                raise ImportRejected(f"StudentContact row {xid}: StudentId {pupil_xid!r} is not a pupil")
            if parent_xid not in parent_ids:
                raise ImportRejected(f"StudentContact row {xid}: ContactId {parent_xid!r} is not a contact")
            parsed_links[xid] = {"pupil_id": pupil_ids[pupil_xid], "parent_id": parent_ids[parent_xid], **values}
        _upsert(PupilParent, parsed_links, table="StudentContact", counts=counts)
    if plan.links_deleted:
        counts.add("StudentContact", "deleted", PupilParent.objects.filter(xporter_id__in=plan.links_deleted)
                   .filter(_held_not("pupil"), _held_not("parent")).delete()[0])

    if plan.groups:
        existing_hashes = dict(Group.objects.values_list("xporter_id", "row_hash"))
        group_ids = _upsert(Group, {xid: values for xid, (values, _, _) in plan.groups.items()}, table="Group", counts=counts)
        _memberships_set(plan, group_ids, pupil_ids, existing_hashes)
    if plan.groups_deleted:
        counts.add("Group", "deleted", Group.objects.filter(xporter_id__in=plan.groups_deleted).delete()[1].get(
            Group._meta.label, 0))

    if plan.results:
        _results_apply(plan, pupil_ids, counts)
    if plan.results_deleted:
        gone = (Result.objects.filter(xporter_id__in=plan.results_deleted).filter(_held_not("pupil"))
                .exclude(_in_locked_points()).delete()[0])
        gone += Target.objects.filter(xporter_id__in=plan.results_deleted).filter(_held_not("pupil")).delete()[0]
        counts.add("AsmResults", "deleted", gone)


def _memberships_set(plan: ImportPlan, group_ids: dict, pupil_ids: dict, existing_hashes: dict) -> None:
    staff = {email.lower(): pk for email, pk in User.objects.filter(role__in=[User.Role.TEACHER, User.Role.SCHOOL_ADMIN])
             .values_list("email", "pk")}
    Members, Staff = Group.pupils.through, Group.staff.through
    touched = [xid for xid, (values, members, _) in plan.groups.items()
               if members is not None and (not values.get("row_hash") or values["row_hash"] != existing_hashes.get(xid))]
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
                raise ImportRejected(f"Group row {xid}: StudentIds has {member!r}, which is not a pupil")
            member_rows.append(Members(group_id=group_ids[xid], pupil_id=pupil_ids[member]))
        staff_rows.extend(Staff(group_id=group_ids[xid], user_id=staff[e]) for e in emails if e in staff)
    Members.objects.bulk_create(member_rows, batch_size=BATCH, ignore_conflicts=True)
    Staff.objects.bulk_create(staff_rows, batch_size=BATCH, ignore_conflicts=True)


def _results_apply(plan: ImportPlan, pupil_ids: dict, counts: ImportCounts) -> None:
    aspects = {a.xporter_id: a for a in Aspect.objects.exclude(xporter_id=None)}
    grades = {(g.grade_set_id, g.label): g.pk for g in Grade.objects.all()}
    results, targets = {}, {}
    for xid, (pupil_xid, aspect_xid, label, day, row_hash, is_target) in plan.results.items():
        if pupil_xid not in pupil_ids:
            raise ImportRejected(f"AsmResults row {xid}: StudentId {pupil_xid!r} is not a pupil")
        aspect = aspects.get(aspect_xid)
        if aspect is None:
            raise ImportRejected(f"AsmResults row {xid}: AspectId {aspect_xid!r} is not an aspect")
        grade = grades.get((aspect.grade_set_id, label))
        if grade is None:
            raise ImportRejected(f"AsmResults row {xid}: Result {label!r} is not a grade of {aspect}")
        if is_target:
            targets[xid] = {"pupil_id": pupil_ids[pupil_xid], "subject_id": aspect.subject_id, "grade_id": grade,
                            "due_on": day, "row_hash": row_hash}
        else:
            results[xid] = {"pupil_id": pupil_ids[pupil_xid], "aspect_id": aspect.pk, "grade_id": grade,
                            "recorded_on": day, "row_hash": row_hash}
    _locked_left_alone(results, counts)
    _no_second(Result, results, ("pupil_id", "aspect_id", "recorded_on"), plan,
               "ResultDate gives a second result for that pupil and aspect on {recorded_on}")
    _no_second(Target, targets, ("pupil_id", "subject_id"), plan, "ResultSetId gives a second target for that pupil and subject")
    if results:
        _upsert(Result, results, table="AsmResults", counts=counts)
    if targets:
        _upsert(Target, targets, table="Targets", counts=counts)


def _in_locked_points() -> Q:
    """Results dated inside a locked assessment point's window (matches nothing when none is locked)."""
    condition = Q(pk__in=[])
    for window in calendar.locked_windows():
        condition |= Q(recorded_on__range=(window.starts_on, window.ends_on))
    return condition


def _locked_left_alone(results: dict[str, dict], counts: ImportCounts) -> None:
    """A locked assessment point's results stay as they are: incoming rows dated in its window, or
    changing a result that is, are left out and counted."""
    locked = calendar.locked_windows()
    if not locked or not results:
        return
    held = set(Result.objects.filter(xporter_id__in=list(results)).filter(_in_locked_points())
               .values_list("xporter_id", flat=True))
    held |= {xid for xid, row in results.items() if any(w.holds(row["recorded_on"]) for w in locked)}
    # (rows that have not changed are left to the upsert, which counts them as unchanged)
    stored = dict(Result.objects.filter(xporter_id__in=held).values_list("xporter_id", "row_hash"))
    changing = {xid for xid in held if stored.get(xid) != results[xid]["row_hash"]}
    for xid in changing:
        del results[xid]
    counts.add("AsmResults", "in a locked assessment point, left as they are", len(changing))


def _no_second(model: type[Model], rows: dict[str, dict], key: tuple[str, ...], plan: ImportPlan, problem: str) -> None:
    """Refuse a row that would be a second one under ``model``'s unique ``key``: against the other
    rows of the import, and against what the school holds already (a result typed on the
    marksheet, or one Xporter sent under another Id) unless this import deletes or moves it."""
    seen: dict[tuple, str] = {}
    for xid, values in rows.items():
        value = tuple(values[name] for name in key)
        if value in seen:
            raise ImportRejected(f"AsmResults row {xid}: {problem.format(**values)}, as in row {seen[value]}")
        seen[value] = xid
    if not seen:
        return
    leaving = set(rows) | set(plan.results_deleted)
    held = model.objects.filter(pupil_id__in={v[0] for v in seen}).values_list(*key, "xporter_id")
    for *value, holder in held:
        xid = seen.get(tuple(value))
        if xid is not None and holder != xid and (holder is None or holder not in leaving):
            where = "a result typed at the school" if holder is None else f"row {holder} of an earlier import"
            raise ImportRejected(f"AsmResults row {xid}: {problem.format(**rows[xid])}, as {where}")
