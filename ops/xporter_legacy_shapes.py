"""A compatibility reader for the demo, the benchmarks and the tests: the shapes ``ops.xporter_fake`` served before it followed
Groupcall's documentation (``SENStatus``, ``FSM``, ``InCare``, ``GroupType``/``MemberIds``,
``ParentalResponsibility``, an ``AssessmentStructure`` of ``Subjects``/``GradeSets``/``Aspects``,
``AssessmentResults`` with ``Date``/``IsTarget``) turned into the documented ones the importer
reads. It goes once every test reads the fake's documented shapes."""

from __future__ import annotations

from dataclasses import dataclass, field

from tenants.xporter.client import XporterClient

GROUP_TYPES = {"YearGroup": "YearGrp", "RegGroup": "RegGrp", "TeachingGroup": "TeachingGrp"}
TARGETS = "RS-TARGET"


def student(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k not in ("SENStatus", "FSM", "InCare", "Ethnicity", "FirstLanguage")}
    renamed = {"SENStatus": "SENProvision", "FSM": "FSMEligible", "InCare": "InLeaCare", "Ethnicity": "EthnicityCode",
               "FirstLanguage": "FirstLanguageCode"}
    out.update({new: row[old] for old, new in renamed.items() if old in row})
    if "ServiceChild" in row:
        out["ServiceChild"] = "1" if row["ServiceChild"] in ("Y", "1", 1) else "0"
    return out


def contact(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k not in ("Email", "Mobile")}
    out.update({"HomeEmail": row.get("Email"), "MobilePhone": row.get("Mobile")})
    return out


def link(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k != "ParentalResponsibility"}
    out["ParResp"] = row.get("ParentalResponsibility", 1)
    return out


def group(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k not in ("GroupType", "MemberIds", "StaffEmails")}
    out["Type"] = GROUP_TYPES[row["GroupType"]]
    if "MemberIds" in row:
        out["StudentIds"] = ",".join(row["MemberIds"])
    out["StaffIds"] = ",".join(staff_id(email) for email in row.get("StaffEmails", []))
    return out


def staff_id(email: str) -> str:
    return "ST-" + email


def staff(groups: list[dict]) -> list[dict]:
    emails = dict.fromkeys(e for g in groups for e in g.get("StaffEmails", []))
    return [{"Id": staff_id(e), "WorkEmail": e} for e in emails]


def structure(legacy: dict) -> dict:
    subjects = {s["Id"]: s["Name"] for s in legacy.get("Subjects", [])}
    tables = {"GradeSets": [], "GradeSetHistory": [], "Grades": [],
              "ResultSets": [{"Id": "RS-1", "Name": "Teacher assessment"}, {"Id": TARGETS, "Name": "Target"}]}
    for gs in legacy.get("GradeSets", []):
        tables["GradeSets"].append({"Id": gs["Id"], "Name": gs["Name"]})
        tables["GradeSetHistory"].append({"Id": f"H-{gs['Id']}", "GradeSetId": gs["Id"], "StartDate": "2014-09-01"})
        tables["Grades"] += [{"Id": f"{gs['Id']}-{i}", "GradeSetHistoryId": f"H-{gs['Id']}", "Value": g["Label"],
                              "NumericValue": g["Points"], "DisplayOrder": g.get("Order", i)} for i, g in enumerate(gs["Grades"])]
    # The documented structure has no subjects: the aspect's name stands for its subject.
    tables["Aspects"] = [{"Id": a["Id"], "Name": subjects.get(a["SubjectId"], a["Name"]), "GradeSetId": a["GradeSetId"],
                          "AspectType": "Grade"} for a in legacy.get("Aspects", [])]
    return tables


def result(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k not in ("Date", "IsTarget")}
    out.update({"ResultDate": row["Date"], "ResultSetId": TARGETS if row.get("IsTarget") else "RS-1"})
    return out


CONVERT = {"Students": ("Students", student), "Contacts": ("Contacts", contact),
           "StudentContacts": ("StudentContact", link), "Groups": ("Group", group),
           "AssessmentResults": ("AsmResults", result)}


def documented_from_legacy(document: dict) -> dict:
    out: dict = {}
    for key, value in document.items():
        if key == "AssessmentStructure":
            out.update(structure(value))
            continue
        base = key.removesuffix("_deleted")
        name, convert = CONVERT[base]
        out[name + key[len(base):]] = value if key.endswith("_deleted") else [convert(row) for row in value]
        if key == "Groups":
            out["Staff"] = staff(value)
    return out


@dataclass
class Converted:
    endpoint: str
    tables: dict
    deleted_tables: dict
    next_changed_rows: str | None
    rows: list = field(default_factory=list)
    deleted: list = field(default_factory=list)


class LegacyFakeClient(XporterClient):
    """The product's client against the fake's legacy shapes, each answer converted."""

    def fetch(self, endpoint, **kwargs):
        result = super().fetch(endpoint, **kwargs)
        if getattr(result, "tables", None) is not None:
            return _converted_tables(result)
        if endpoint == "assessmentstructure":
            tables = structure(result.rows[0]) if result.rows else {}
            return Converted(endpoint, tables, {}, result.next_changed_rows)
        legacy = {"assessmentresults": "AssessmentResults"}.get(endpoint, endpoint)
        doc = documented_from_legacy({legacy: result.rows, f"{legacy}_deleted": result.deleted})
        name = CONVERT[legacy][0]
        tables = {name: doc[name], **({"Staff": doc["Staff"]} if "Staff" in doc else {})}
        return Converted(endpoint, tables, {name: doc[f"{name}_deleted"]}, result.next_changed_rows)


LEGACY_MARKS = {"Students": "SENStatus", "Contacts": "Email", "StudentContact": "ParentalResponsibility",
                "Group": "GroupType", "AsmResults": "IsTarget"}
ROW_CONVERT = {"Students": student, "Contacts": contact, "StudentContact": link, "Group": group, "AsmResults": result}


def _converted_tables(result):
    """A client that reads the documented envelope: convert the rows that still carry the old
    fields, and pass documented ones through unchanged."""
    tables = dict(result.tables)
    if "Subjects" in tables:
        tables = structure(tables)
    for name, rows in list(tables.items()):
        mark = LEGACY_MARKS.get(name)
        if mark and any(mark in row for row in rows):
            if name == "Group":
                tables["Staff"] = staff(rows)
            tables[name] = [ROW_CONVERT[name](row) for row in rows]
    result.tables = tables
    return result
