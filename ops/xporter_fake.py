"""A local fake of Groupcall Xporter on Demand, for tests, benchmarks and the demo.

It answers as the real service does (the project's Xporter reference, with its sources):
``POST /api/oauth/GetToken`` with a JSON body for a token that expires (a refusal answers HTTP
200, ``token: null`` and ``expires: "0001-01-01T00:00:00"``), ``GET /api/v1/School/{estab}/
{Endpoint}`` with ``Authorization: Idaas <token>``, result sets as arrays under their own keys
(``StudentContact``, ``Group``, ``StaffMembers``, ``Aspects``, ``AsmResults``...), metadata as arrays
holding one object (``__pagination__`` whose last page still fills ``NextPage``, a relative query
string; ``__changedRows__`` with ``NextChangedRows``), changesets kept per endpoint and exact
options and parameters with ``{ResultSet}_deleted`` on later ones, errors with HTTP 200 and an
``ExceptionMessage``, fields outside the school's consent scopes left out of the row, and (on
request) 5xx answers that a client must retry.

Rows go over HTTP only as the reference records them (``DateofBirth``, ``SENProvision``,
``FSMEligible``, ``InLeaCare``/``EverInCare``, ``EthnicityCode`` and the ``Ethnicity`` description, ids as
strings, flags 0/1 but ``ServiceChild`` ``"0"``, timestamps without a time zone); the school's own tables
below keep a compact form of their own. ``FakeSchool.document()`` gives the same documented rows as an
uploaded Xporter file would hold them.

Data is generated deterministically from a seed, so two runs serve the same school. Change it
through ``FakeSchool.change_pupil`` / ``delete_pupil`` / ``add_result`` to exercise incremental sync.

Run it on its own with ``python -m ops.xporter_fake --port 8765 --pupils 200``.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import random
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

PAGE_SIZE = 1000
TOKEN_SECONDS = 3600
ENDPOINTS = ("Students", "Contacts", "StudentContacts", "Groups", "Staff", "SchoolInfo", "assessmentstructure",
             "assessmentresults")
FORENAMES = ["Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Ivy", "Leo", "Freya", "Oscar",
             "Lily", "Harry", "Sophia", "Jack", "Grace", "Muhammad", "Aisha", "Zara", "Tomasz", "Chloe", "Kwame", "Priya"]
SURNAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson", "Wright",
            "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Khan", "Nowak", "Okafor", "Murphy"]
SUBJECTS = ["Reading", "Writing", "Maths", "Science"]
GRADES = [("WTS-", 1), ("WTS", 2), ("WTS+", 3), ("EXS-", 4), ("EXS", 5), ("EXS+", 6), ("GDS-", 7), ("GDS", 8)]


def _hash(row: dict) -> str:
    body = json.dumps({k: v for k, v in row.items() if k != "RowHash"}, sort_keys=True, default=str)
    return hashlib.md5(body.encode()).hexdigest()


@dataclass
class FakeSchool:
    """One school's data as Xporter would serve it. Every row carries the version at which it last
    changed, which is what ``changedRows`` compares against."""

    estab: str
    pupils: int = 60
    contacts_per_pupil: int = 2
    results_per_pupil: int = 40
    seed: int = 1
    password: str = "xporter-secret"
    teacher_emails: tuple[str, ...] = ()  # given the teaching groups round-robin
    scopes: frozenset[str] | None = None  # the consent scopes the school authorised; None: every one
    today: dt.date | None = None  # the day its results lead up to; the machine's today if not given
    # The days results are recorded on, one per subject each (for example a school's assessment
    # points); by default one term's results every 91 days, the latest a week before today.
    result_dates: tuple[dt.date, ...] | None = None
    target_on: dt.date = dt.date(2027, 7, 15)  # when the targets are due
    version: int = 1
    tables: dict[str, dict[str, tuple[int, dict]]] = field(default_factory=dict)
    deleted: dict[str, dict[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tables = {name: {} for name in ("Students", "Contacts", "StudentContacts", "Groups", "AssessmentResults")}
        self.deleted = {name: {} for name in self.tables}
        self._generate()

    def _put(self, table: str, row: dict) -> None:
        row["RowHash"] = _hash(row)
        self.tables[table][row["Id"]] = (self.version, row)

    def _generate(self) -> None:
        rnd = random.Random(self.seed)
        years = [1, 2, 3, 4, 5, 6]
        for n in range(1, self.pupils + 1):
            year = years[n % len(years)]
            pid = f"S{n:05d}"
            self._put("Students", {
                "Id": pid, "ExternalId": f"EXT-{n:05d}", "Forename": rnd.choice(FORENAMES), "Surname": rnd.choice(SURNAMES),
                "LegalForename": "", "LegalSurname": "",
                "DateofBirth": dt.date(2025 - 5 - year, 1 + n % 12, 1 + n % 28).isoformat(),
                "Gender": rnd.choice(["M", "F"]), "YearGroup": f"Year  {year}", "RegGroup": f"{year}{'AB'[(n // 6) % 2]}",
                "EntryDate": "2021-09-01", "LeavingDate": None, "UPN": f"A{(n * 7919) % 10**11:011d}Q",
                "SENStatus": rnd.choice(["N"] * 8 + ["K", "E"]), "FSM": int(rnd.random() < 0.2),
                "FSMEver6": int(rnd.random() < 0.3), "PupilPremium": int(rnd.random() < 0.25), "EAL": int(rnd.random() < 0.15),
                "InCare": int(rnd.random() < 0.02), "ServiceChild": rnd.choice(["N"] * 19 + ["Y"]),
                "Ethnicity": rnd.choice(["WBRI", "WOTH", "ABAN", "BAFR", "MWBC", "CHNE"]),
                "FirstLanguage": rnd.choice(["ENG"] * 6 + ["POL", "URD", "PAN"]),
            })
            for c in range(1, self.contacts_per_pupil + 1):
                cid = f"C{n:05d}{c}"
                self._put("Contacts", {"Id": cid, "Title": "Mx", "Forename": rnd.choice(FORENAMES),
                                       "Surname": rnd.choice(SURNAMES), "Email": f"parent{n}-{c}@{self.estab}.example",
                                       "Mobile": f"07700 9{n % 100000:05d}"})
                self._put("StudentContacts", {"Id": f"SC{n:05d}{c}", "StudentId": pid, "ContactId": cid,
                                              "Relationship": "Mother" if c == 1 else "Father", "Priority": c,
                                              "ParentalResponsibility": 1})
        teachers = iter(self.teacher_emails * 12)
        for year in years:
            members = [sid for sid, (_, row) in self.tables["Students"].items() if row["YearGroup"] == f"Year  {year}"]
            self._put("Groups", {"Id": f"G-Y{year}", "Name": f"Year {year}", "GroupType": "YearGroup", "MemberIds": members,
                                 "StaffEmails": []})
            for reg in "AB":
                reg_members = [sid for sid in members if self.tables["Students"][sid][1]["RegGroup"] == f"{year}{reg}"]
                self._put("Groups", {"Id": f"G-R{year}{reg}", "Name": f"{year}{reg}", "GroupType": "RegGroup",
                                     "MemberIds": reg_members, "StaffEmails": []})
                self._put("Groups", {"Id": f"G-T{year}{reg}M", "Name": f"{year}{reg} Maths", "GroupType": "TeachingGroup",
                                     "MemberIds": reg_members, "StaffEmails": [e for e in [next(teachers, None)] if e]})
        result_id = 0
        # One term's results every 91 days, the latest a week before today: a school's MIS holds no
        # result dated in the future (the import refuses one).
        if self.result_dates is not None:
            dates = sorted(self.result_dates)
            results_per_pupil = len(dates) * len(SUBJECTS)
        else:
            terms = -(-self.results_per_pupil // len(SUBJECTS))
            first_term = (self.today or dt.date.today()) - dt.timedelta(days=91 * (terms - 1) + 7)
            dates = [first_term + dt.timedelta(days=91 * term) for term in range(terms)]
            results_per_pupil = self.results_per_pupil
        for sid in self.tables["Students"]:
            level = rnd.randint(2, 5)
            for r in range(results_per_pupil):
                subject = SUBJECTS[r % len(SUBJECTS)]
                term = r // len(SUBJECTS)
                result_id += 1
                grade = GRADES[min(len(GRADES) - 1, max(0, level + term // 3 + rnd.randint(-1, 1)))][0]
                # given dates are the last day results count on: the subjects are spread over the days before
                offset = dt.timedelta(days=-(r % 4) if self.result_dates is not None else r % 4)
                self._put("AssessmentResults", {
                    "Id": f"R{result_id:07d}", "StudentId": sid, "AspectId": f"A-{subject}", "Result": grade,
                    "Date": (dates[term] + offset).isoformat(), "IsTarget": 0})
            for subject in SUBJECTS:
                result_id += 1
                self._put("AssessmentResults", {
                    "Id": f"T{result_id:07d}", "StudentId": sid, "AspectId": f"A-{subject}",
                    "Result": GRADES[min(len(GRADES) - 1, level + 3)][0], "Date": self.target_on.isoformat(),
                    "IsTarget": 1})

    def document(self, endpoints: tuple[str, ...] = ("assessmentstructure", "Students", "assessmentresults")) -> dict:
        """The documented result sets of ``endpoints`` in one document, as an uploaded Xporter file
        holds them: the structure with its grade sets, groups with their members, every aspect's
        results."""
        queries = {"assessmentstructure": {"options": "includeGradesets,includeGradesetHistory"},
                   "Groups": {"options": "includeMembersIds"},
                   "assessmentresults": {"Aspects": ",".join(f"A-{s}" for s in SUBJECTS)}}
        out: dict = {}
        for endpoint in endpoints:
            out.update(documented(self, endpoint, queries.get(endpoint)))
        return out

    def staff(self) -> dict[str, str]:
        """Staff Id -> work email, one per distinct teacher email."""
        return {str(100 + n): email for n, email in enumerate(dict.fromkeys(e for e in self.teacher_emails if e))}

    # --- Changes, for incremental-sync tests -------------------------------------------------------

    def _bump(self) -> None:
        self.version += 1

    def change_pupil(self, pupil_id: str, **fields) -> None:
        self._bump()
        row = dict(self.tables["Students"][pupil_id][1], **fields)
        self._put("Students", row)

    def delete_pupil(self, pupil_id: str) -> None:
        self._bump()
        del self.tables["Students"][pupil_id]
        self.deleted["Students"][pupil_id] = self.version

    def add_result(self, pupil_id: str, aspect_id: str, grade: str, date: str) -> str:
        self._bump()
        rid = f"RX{self.version:06d}"
        self._put("AssessmentResults", {"Id": rid, "StudentId": pupil_id, "AspectId": aspect_id, "Result": grade,
                                        "Date": date, "IsTarget": 0})
        return rid



ETHNICITIES = {"WBRI": "White - British", "WOTH": "Any Other White Background", "ABAN": "Bangladeshi",
               "BAFR": "Black - African", "MWBC": "White and Black Caribbean", "CHNE": "Chinese"}
LANGUAGES = {"ENG": "English", "POL": "Polish", "URD": "Urdu", "PAN": "Panjabi"}
GROUP_TYPES = {"YearGroup": ("YearGrp", "GY"), "RegGroup": ("RegGrp", "GR"), "TeachingGroup": ("TeachingGrp", "GC")}
NEVER = "0001-01-01T00:00:00"
# The consent scope each documented Students field needs (reference §7.1, "Fields by Scope").
STUDENT_SCOPES = {
    "DateofBirth": "StudentExtended", "LegalForename": "StudentExtended", "LegalSurname": "StudentExtended",
    "EntryDate": "StudentExtended", "LeavingDate": "StudentExtended", "SENProvision": "SEN",
    "FSMEligible": "StudentFunding", "FSMEver6": "StudentFunding", "PupilPremium": "StudentFunding", "EAL": "StudentFunding",
    "InLeaCare": "StudentFamily", "EverInCare": "StudentFamily", "ServiceChild": "StudentFamily",
    "EthnicityCode": "StudentDemographic", "Ethnicity": "StudentDemographic", "EthnicitySource": "StudentDemographic",
    "FirstLanguage": "StudentDemographic", "FirstLanguageCode": "StudentDemographic",
    "FirstLanguageSource": "StudentDemographic", "UPN": "UPN",
}
ALL_SCOPES = frozenset({"Student", "Contact", "School", "AssessmentResults", "Staff", *STUDENT_SCOPES.values()})
# The result sets of each endpoint, main one first (reference §4.1).
RESULT_SETS = {"Students": ("Students", "StudentSiblings"), "Contacts": ("Contacts",),
               "StudentContacts": ("StudentContact",), "Groups": ("Group", "StaffMembers", "StudentMembers", "GroupTypes"),
               "Staff": ("Staff",), "assessmentresults": ("AsmResults",),
               "assessmentstructure": ("Aspects", "ResultSets", "Categories")}
RESULT_FILTERS = ("students", "groups", "aspects", "resultsets", "templates", "columns", "marksheets")
TARGET_RESULT_SET = "9"


def _row_hash(row: dict) -> str:
    body = json.dumps({k: v for k, v in row.items() if k != "RowHash"}, sort_keys=True, default=str)
    return hashlib.sha1(body.encode()).hexdigest().upper()


def _stamped(row: dict) -> dict:
    row["LastUpdated"] = "2024-01-02T03:04:05.12"  # no time zone, as the service sends
    row["RowHash"] = _row_hash(row)
    return row


def documented(school: FakeSchool, endpoint: str, query: dict | None = None) -> dict[str, list[dict]]:
    """One endpoint's result sets, as the reference records them (and as they go over HTTP)."""
    query = query or {}
    options = {o.strip().casefold() for o in query.get("options", "").split(",") if o.strip()}
    scopes = school.scopes if school.scopes is not None else ALL_SCOPES
    if endpoint == "SchoolInfo":
        return {"SchoolInfo": [_stamped({"Id": "1", "Name": f"School {school.estab}", "Phase": "Primary",
                                         "EstabId": school.estab, "CurrentAcademicYear": "2024"})]}
    if endpoint == "Students":
        rows = []
        for _, old in school.tables["Students"].values():
            sid = old["Id"]
            row = {"Id": sid, "XID": f"x{sid}", "ExternalId": old["ExternalId"], "IdaasId": f"PL-{sid}",
                   "Forename": old["Forename"], "Surname": old["Surname"], "DisplayName": f"{old['Forename']} {old['Surname']}",
                   "Gender": old["Gender"], "RegGroupId": f"GR-{old['RegGroup']}", "RegGroup": old["RegGroup"],
                   "YearGroupId": f"GY-{old['YearGroup'].split()[-1]}", "YearGroup": old["YearGroup"],
                   "DateofBirth": old["DateofBirth"], "LegalForename": old["LegalForename"] or None,
                   "LegalSurname": old["LegalSurname"] or None, "EntryDate": old["EntryDate"],
                   "LeavingDate": old["LeavingDate"], "SENProvision": None if old["SENStatus"] == "N" else old["SENStatus"],
                   "FSMEligible": int(bool(old["FSM"])), "FSMEver6": int(bool(old["FSMEver6"])),
                   "PupilPremium": int(bool(old["PupilPremium"])), "EAL": int(bool(old["EAL"])),
                   "InLeaCare": int(bool(old["InCare"])), "EverInCare": int(bool(old["InCare"])),
                   "ServiceChild": "1" if old["ServiceChild"] == "Y" else "0",
                   "EthnicityCode": old["Ethnicity"], "Ethnicity": ETHNICITIES.get(old["Ethnicity"], "Other"),
                   "EthnicitySource": "P", "FirstLanguageCode": old["FirstLanguage"],
                   "FirstLanguage": LANGUAGES.get(old["FirstLanguage"], "Other"), "FirstLanguageSource": "S",
                   "UPN": old["UPN"], "StudentStatus": "OnRoll"}
            rows.append(_stamped({k: v for k, v in row.items() if STUDENT_SCOPES.get(k, "Student") in scopes}))
        return {"Students": rows, "StudentSiblings": []}
    if endpoint == "Contacts":
        return {"Contacts": [_stamped({
            "Id": old["Id"], "IdaasId": f"PC-{old['Id']}", "ExternalId": f"EXT-{old['Id']}", "XID": f"x{old['Id']}",
            "Title": old["Title"], "Forename": old["Forename"], "Surname": old["Surname"],
            "DisplayName": f"{old['Title']} {old['Surname']}", "TranslatorRequired": 0, "HomeEmail": old["Email"],
            "MobilePhone": old["Mobile"], "WorkEmail": None, "WorkPhone": None, "HomePhone": None})
            for _, old in school.tables["Contacts"].values()]}
    if endpoint == "StudentContacts":
        return {"StudentContact": [_stamped({
            "Id": f"PL-{old['StudentId']}.PC-{old['ContactId']}", "StudentId": old["StudentId"], "ContactId": old["ContactId"],
            "Relationship": old["Relationship"], "Priority": old["Priority"], "ParResp": int(old["ParentalResponsibility"])})
            for _, old in school.tables["StudentContacts"].values()]}
    if endpoint == "Staff":
        return {"Staff": [_stamped({"Id": sid, "IdaasId": f"PWT-{sid}", "StaffCode": f"T{sid}", "WorkEmail": email,
                                    "IsTeacher": 1, "IsSupport": 0}) for sid, email in school.staff().items()]}
    if endpoint == "Groups":
        staff_of = {email: sid for sid, email in school.staff().items()}
        groups, staff_members, student_members = [], [], []
        for _, old in school.tables["Groups"].values():
            kind, prefix = GROUP_TYPES[old["GroupType"]]
            gid = old["Id"]
            staff_ids = [staff_of[e] for e in old["StaffEmails"] if e in staff_of]
            row = {"Id": gid, "XID": f"x{gid}", "ExternalId": f"EXT-{gid}", "IdaasId": f"{prefix}-{gid}", "Type": kind,
                   "Code": old["Name"], "Name": old["Name"], "PrimaryStaffId": staff_ids[0] if staff_ids else None,
                   "Staff": None, "NumStudents": len(old["MemberIds"])}
            if "includemembersids" in options:
                row["StudentIds"] = ",".join(old["MemberIds"])
                row["StaffIds"] = ",".join(staff_ids)
            groups.append(_stamped(row))
            if "includestaffmembers" in options:
                staff_members += [_stamped({"Id": f"{prefix}-{gid}.PWT-{s}", "GroupId": gid, "StaffId": s,
                                            "StaffRole": "Teacher"}) for s in staff_ids]
            if "includestudentmembers" in options:
                student_members += [_stamped({"Id": f"{prefix}-{gid}.PL-{m}", "GroupId": gid, "StudentId": m})
                                    for m in old["MemberIds"]]
        return {"Group": groups, "StaffMembers": staff_members, "StudentMembers": student_members, "GroupTypes": []}
    if endpoint == "assessmentstructure":
        tables = {
            "Aspects": [_stamped({"Id": f"A-{s}", "ExternalId": f"EXT-A-{s}", "AspectType": "Grade",
                                  "Name": s, "Description": f"{s} teacher assessment",
                                  "Supplier": school.estab, "GradeSetId": "GS-KS2"}) for s in SUBJECTS],
            "ResultSets": [{"Id": "1", "ExternalId": "1", "Name": "Teacher assessment", "Supplier": school.estab},
                           {"Id": TARGET_RESULT_SET, "ExternalId": TARGET_RESULT_SET, "Name": "Target",
                            "Supplier": school.estab}],
            "Categories": [{"Id": f"C-{s}", "categoryName": s} for s in SUBJECTS]}
        if "includegradesets" in options:  # reference §7.6: GradeSets and Grades with this option,
            tables["GradeSets"] = [{"Id": "GS-KS2", "Name": "KS2 steps", "Notes": None}]
            tables["Grades"] = [{"Id": f"G{i}", "GradeSetHistoryId": "GH-KS2", "Description": label, "Value": label,
                                 "NumericValue": float(points), "DisplayOrder": i} for i, (label, points) in enumerate(GRADES)]
        if "includegradesethistory" in options:  # and GradeSetHistory only with its own
            tables["GradeSetHistory"] = [{"Id": "GH-KS2", "StartDate": "2014-09-01", "EndDate": None, "GradeSetId": "GS-KS2"}]
        return tables
    if endpoint == "assessmentresults":
        return {"AsmResults": _results_filtered(school, query)}
    raise KeyError(endpoint)


def _results_filtered(school: FakeSchool, query: dict) -> list[dict]:
    """The documented filters: ResultSets overrides the others, which add up; dates narrow them."""
    q = {k.casefold(): v for k, v in query.items()}
    rows = [_stamped({"Id": old["Id"], "StudentId": old["StudentId"], "AspectId": old["AspectId"],
                      "ResultDate": old["Date"], "ResultSetId": TARGET_RESULT_SET if old["IsTarget"] else "1",
                      "Result": old["Result"], "Notes": None}) for _, old in school.tables["AssessmentResults"].values()]
    if q.get("resultsets"):
        sets = set(q["resultsets"].split(","))
        chosen = [r for r in rows if r["ResultSetId"] in sets]
    else:
        wanted = set()
        students = set(filter(None, q.get("students", "").split(",")))
        for group in filter(None, q.get("groups", "").split(",")):
            students |= set(school.tables["Groups"].get(group, (0, {"MemberIds": []}))[1]["MemberIds"])
        aspects = [a.split("|") for a in filter(None, q.get("aspects", "").split(","))]
        for r in rows:
            if r["StudentId"] in students or any(
                    r["AspectId"] == a[0] and (len(a) == 1 or r["ResultSetId"] == a[1] or (a[1] == "" and not r["ResultSetId"]))
                    for a in aspects):
                wanted.add(r["Id"])
        chosen = [r for r in rows if r["Id"] in wanted]
    low, high = q.get("resultdatefrom"), q.get("resultdateto")
    return [r for r in chosen if (not low or r["ResultDate"] >= low) and (not high or r["ResultDate"] <= high)]


class FakeXporter:
    """The WSGI app: several schools by estab number, tokens, paging, changesets, quirks."""

    def __init__(self, schools: list[FakeSchool], *, fail_first: int = 0) -> None:
        self.schools = {school.estab: school for school in schools}
        self.tokens: dict[str, tuple[str, dt.datetime]] = {}
        self.fail_first = fail_first  # answer this many data requests with 503 first
        self.broken_pages: dict[tuple[str, int], int] = {}
        # NextChangedRows -> (estab, changeset, {result set: {Id: RowHash}})
        self.snapshots: dict[str, tuple[str, str, dict[str, dict[str, str]]]] = {}
        self.requests: list[str] = []
        self.queries: list[dict] = []
        # (estab, data version, scopes, changeset, changedRows) -> (result sets, deletions)
        self.answers: dict[tuple, tuple[dict, dict, str | None]] = {}
        self.lock = threading.Lock()

    def _answer(self, school: FakeSchool, endpoint: str, query: dict, key: str, changed: str | None):
        """The result sets of one request, all pages, its deletions and its next token. Every page of a
        request asks for the same answer, so it is built once per version of the school's data (a
        school of 66,000 results would otherwise be rebuilt and hashed again for each of its pages)."""
        cache_key = (school.estab, school.version, school.scopes, key, changed)
        with self.lock:
            cached = self.answers.get(cache_key)
        if cached is not None:
            return cached
        tables, deleted, next_token = documented(school, endpoint, query), {}, None
        if changed is not None:
            snapshot = self.snapshots[changed][2] if changed != "*" else {}
            current = {name: {str(r["Id"]): r.get("RowHash", "") for r in rows} for name, rows in tables.items()}
            next_token = hashlib.md5(json.dumps([school.estab, key, current], sort_keys=True).encode()).hexdigest()
            with self.lock:
                self.snapshots[next_token] = (school.estab, key, current)
            deleted = {name: [{"Id": i} for i in snapshot.get(name, {}) if i not in current[name]] for name in tables}
            tables = {name: [r for r in rows if snapshot.get(name, {}).get(str(r["Id"])) != r.get("RowHash", "")]
                      for name, rows in tables.items()}
        with self.lock:
            if len(self.answers) >= 32:
                self.answers.clear()
            self.answers[cache_key] = (tables, deleted, next_token)
        return tables, deleted, next_token

    def break_page(self, endpoint: str, page: int, times: int = 1000) -> None:
        """Answer that page of that endpoint with HTTP 500 the next ``times`` times it is asked."""
        self.broken_pages[(endpoint.casefold(), page)] = times

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
        with self.lock:
            self.requests.append(f"{method} {path}")
            self.queries.append(query)
        if method == "POST" and path.casefold() == "/api/oauth/gettoken":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length).decode()
            try:
                form = json.loads(raw)
            except ValueError:
                form = {k: v[0] for k, v in parse_qs(raw).items()}
            return self._token({k.casefold(): v for k, v in form.items()} if isinstance(form, dict) else {}, start_response)
        if method == "GET" and path.casefold() == "/api/v1/tokendetails":
            return self._token_details(environ, start_response)
        if method == "GET" and path.casefold().startswith("/api/v1/school/"):
            return self._data(environ, path, query, start_response)
        return _json(start_response, {"Message": f"No HTTP resource was found that matches {path}"}, status="404 Not Found")

    def _token(self, form, start_response):
        school = self.schools.get(str(form.get("estab", "")))
        if school is None or form.get("password") != school.password or not form.get("relyingparty"):
            return _json(start_response, {"token": None, "expires": NEVER, "Message": None, "ExceptionType": None,
                                          "ExceptionMessage": "Relying Party not found for estab or secret not correct",
                                          "InnerException": None})
        token = base64.b64encode(secrets.token_bytes(30)).decode()
        expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=TOKEN_SECONDS)
        self.tokens[token] = (school.estab, expires)
        return _json(start_response, {"token": token, "expires": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                                      "Message": None, "ExceptionType": None, "ExceptionMessage": None,
                                      "InnerException": None})

    def _token_details(self, environ, start_response):
        """``GET /api/v1/TokenDetails`` as recorded (reference §2.5): the token's school, expiry
        and the scopes that school authorised."""
        auth = environ.get("HTTP_AUTHORIZATION", "")
        owner = self.tokens.get(auth.removeprefix("Idaas ").strip())
        if not auth.startswith("Idaas ") or owner is None or owner[1] < dt.datetime.now(dt.timezone.utc):
            return _json(start_response, {"Message": "Authorization has been denied for this request."},
                         status="401 Unauthorized")
        school = self.schools[owner[0]]
        scopes = school.scopes if school.scopes is not None else ALL_SCOPES
        return _json(start_response, {"Estab": school.estab, "Expires": owner[1].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                                      "Name": "Pupil Tracking", "RelyingParty": "pupiltracking",
                                      "Scopes": sorted(scopes), "Message": None, "ExceptionType": None,
                                      "ExceptionMessage": None, "InnerException": None})

    def _data(self, environ, path, query, start_response):
        parts = path.strip("/").split("/")  # api v1 School {estab} {Endpoint}
        if len(parts) != 5:
            return _json(start_response, _error("Bad path"), status="404 Not Found")
        estab, asked = parts[3], parts[4]
        endpoint = next((e for e in ENDPOINTS if e.casefold() == asked.casefold()), asked)
        with self.lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                return _json(start_response, {"Message": "Service busy"}, status="503 Service Unavailable")
            broken = (endpoint.casefold(), int(query.get("page") or 1))
            if self.broken_pages.get(broken, 0) > 0:
                self.broken_pages[broken] -= 1
                return _json(start_response, {"Message": "An error has occurred."}, status="500 Internal Server Error")
        auth = environ.get("HTTP_AUTHORIZATION", "")
        token = auth.removeprefix("Idaas ").strip()
        owner = self.tokens.get(token)
        if not auth.startswith("Idaas ") or owner is None or owner[0] != estab or owner[1] < dt.datetime.now(dt.timezone.utc):
            return _json(start_response, {"Message": "Authorization has been denied for this request."},
                         status="401 Unauthorized")
        school = self.schools[estab]
        if endpoint not in ENDPOINTS:
            # The real service reports many errors with HTTP 200.
            return _json(start_response, _error(f"Unknown endpoint {asked}"))
        if endpoint == "SchoolInfo":
            return _json(start_response, {**documented(school, "SchoolInfo"), "meta": [META]})
        if endpoint == "assessmentresults" and not any(k.casefold() in RESULT_FILTERS and v for k, v in query.items()):
            return _json(start_response, _error("At least one of Students, Groups, Aspects, ResultSets, Templates, "
                                                "Columns or Marksheets must be given"))
        body: dict = {}
        changed = query.get("changedRows")
        key = _changeset(endpoint, query)
        if changed not in (None, "*") and (changed not in self.snapshots or self.snapshots[changed][0] != estab):
            return _json(start_response, _error(f"changedRows {changed!r} is not a known changeset"))
        tables, deleted, next_token = self._answer(school, endpoint, query, key, changed)
        paged = "page" in query or "pageSize" in query
        page, size = int(query.get("page") or 1), int(query.get("pageSize") or PAGE_SIZE)
        main = RESULT_SETS[endpoint][0]
        total = len(tables[main])
        for name, rows in tables.items():
            body[name] = rows[(page - 1) * size: page * size] if paged and name == main else rows
        body["meta"] = [META] if page == 1 else []
        if changed is not None:
            for name in tables:
                body[f"{name}_deleted"] = deleted[name]
        if paged:
            # Filled in on the last page too, as the real service does.
            body["__pagination__"] = [{"PageSize": size, "PageNumber": page, "PageCount": max(1, -(-total // size)),
                                       "RowCount": total, "NextPage": f"?page={page + 1}&pageSize={size}"}]
        if changed is not None:
            body["__changedRows__"] = [{
                "SnapshotDate": None if changed == "*" else "2024-01-01T00:00:00.0000000Z",
                "SnapshotRP": None if changed == "*" else "fake-relying-party", "PreviousChangedRows": None if changed == "*" else "*",
                "RequestedChangedRows": changed, "NextChangedRows": next_token,
                "NextUrl": f"?changedRows={next_token}&page=1&pageSize={size}"}]
        return _json(start_response, body)


META = {"Id": 1, "MIS": "simsnet", "Version": "4", "DateTime": "2024-01-02T02:00:00.123"}


def _error(message: str) -> dict:
    return {"Message": None, "ExceptionType": None, "ExceptionMessage": message, "InnerException": None}


def _changeset(endpoint: str, query: dict) -> str:
    """One changeset per endpoint and exact options and parameters (paging aside)."""
    rest = sorted((k, v) for k, v in query.items() if k.casefold() not in ("page", "pagesize", "changedrows"))
    return f"{endpoint.casefold()}?{urlencode(rest)}"


def _json(start_response, body, status="200 OK"):
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):  # the fake's own access log is noise in tests
        pass


class _ThreadingServer(WSGIServer):
    daemon_threads = True


def serve_in_thread(app: FakeXporter, host: str = "127.0.0.1", port: int = 0):
    """Start the fake on a free port in a daemon thread. Returns (base_url, server); call
    ``server.shutdown()`` to stop it."""
    server = make_server(host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://{host}:{server.server_port}", server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A local fake Xporter on Demand server.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--estab", default="3312345")
    parser.add_argument("--pupils", type=int, default=200)
    args = parser.parse_args(argv)
    school = FakeSchool(estab=args.estab, pupils=args.pupils)
    server = make_server("127.0.0.1", args.port, FakeXporter([school]), handler_class=_QuietHandler)
    print(f"fake Xporter for estab {args.estab} ({args.pupils} pupils) on http://127.0.0.1:{args.port}, "
          f"password {school.password!r}")
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
