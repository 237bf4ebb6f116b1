"""A local fake of Groupcall Xporter on Demand, for tests, benchmarks and the demo.

It speaks the protocol the real client speaks (``tenants.xporter.client``): ``POST
/api/oauth/GetToken`` for a token that expires, ``GET /api/v1/School/{estab}/{Endpoint}`` with
``Authorization: Idaas <token>``, paging through ``__pagination__.NextPage``, incremental sync
through ``changedRows`` / ``NextChangedRows`` with ``{Table}_deleted`` rows, and the real
service's quirks: ``DateofBirth``/``RegGroup``/``YearGroup`` field names, year groups with a double
space ("Year  4"), flags as 0/1 integers but ``ServiceChild`` as a string, errors sent with HTTP
200 and an ``ExceptionMessage``, and (on request) 5xx answers that a client must retry.

Data is generated deterministically from a seed, so two runs serve the same school. Change it
through ``FakeSchool.change_pupil`` / ``delete_pupil`` / ``add_result`` to exercise incremental sync.

Run it on its own with ``python -m ops.xporter_fake --port 8765 --pupils 200``.
"""

from __future__ import annotations

import argparse
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
ENDPOINTS = ("Students", "Contacts", "StudentContacts", "Groups", "SchoolInfo", "assessmentstructure",
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
        terms = -(-self.results_per_pupil // len(SUBJECTS))
        first_term = dt.date.today() - dt.timedelta(days=91 * (terms - 1) + 7)
        for sid in self.tables["Students"]:
            level = rnd.randint(2, 5)
            for r in range(self.results_per_pupil):
                subject = SUBJECTS[r % len(SUBJECTS)]
                term = r // len(SUBJECTS)
                result_id += 1
                grade = GRADES[min(len(GRADES) - 1, max(0, level + term // 3 + rnd.randint(-1, 1)))][0]
                self._put("AssessmentResults", {
                    "Id": f"R{result_id:07d}", "StudentId": sid, "AspectId": f"A-{subject}", "Result": grade,
                    "Date": (first_term + dt.timedelta(days=91 * term + (r % 4))).isoformat(), "IsTarget": 0})
            for subject in SUBJECTS:
                result_id += 1
                self._put("AssessmentResults", {
                    "Id": f"T{result_id:07d}", "StudentId": sid, "AspectId": f"A-{subject}",
                    "Result": GRADES[min(len(GRADES) - 1, level + 3)][0], "Date": "2027-07-15", "IsTarget": 1})

    def structure(self) -> dict:
        return {
            "Subjects": [{"Id": f"SUB-{s}", "Name": s} for s in SUBJECTS],
            "GradeSets": [{"Id": "GS-KS2", "Name": "KS2 steps",
                           "Grades": [{"Label": label, "Order": i, "Points": points} for i, (label, points) in enumerate(GRADES)]}],
            "Aspects": [{"Id": f"A-{s}", "SubjectId": f"SUB-{s}", "Name": f"{s} teacher assessment", "GradeSetId": "GS-KS2",
                         "IsHeadline": 1} for s in SUBJECTS],
        }

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

    def rows_since(self, table: str, since: int) -> tuple[list[dict], list[dict]]:
        rows = [row for version, row in self.tables[table].values() if version > since]
        gone = [{"Id": key} for key, version in self.deleted[table].items() if version > since]
        return rows, gone


class FakeXporter:
    """The WSGI app: several schools by estab number, tokens, paging, quirks."""

    def __init__(self, schools: list[FakeSchool], *, fail_first: int = 0) -> None:
        self.schools = {school.estab: school for school in schools}
        self.tokens: dict[str, tuple[str, dt.datetime]] = {}
        self.fail_first = fail_first  # answer this many data requests with 503 first
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        with self.lock:
            self.requests.append(f"{method} {path}")
        if method == "POST" and path == "/api/oauth/GetToken":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()}
            return self._token(form, start_response)
        if method == "GET" and path.startswith("/api/v1/School/"):
            return self._data(environ, path, query, start_response)
        return _json(start_response, {"ExceptionMessage": f"No route {path}"}, status="404 Not Found")

    def _token(self, form, start_response):
        school = self.schools.get(form.get("estab", ""))
        if school is None or form.get("password") != school.password or not form.get("relyingParty"):
            return _json(start_response, {"ExceptionMessage": "Invalid credentials"}, status="401 Unauthorized")
        token = secrets.token_hex(16)
        expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=TOKEN_SECONDS)
        self.tokens[token] = (school.estab, expires)
        return _json(start_response, {"token": token, "expires": expires.isoformat()})

    def _data(self, environ, path, query, start_response):
        with self.lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                return _json(start_response, {"Message": "Service busy"}, status="503 Service Unavailable")
        parts = path.strip("/").split("/")  # api v1 School {estab} {Endpoint}
        if len(parts) != 5:
            return _json(start_response, {"ExceptionMessage": "Bad path"}, status="404 Not Found")
        estab, endpoint = parts[3], parts[4]
        auth = environ.get("HTTP_AUTHORIZATION", "")
        token = auth.removeprefix("Idaas ").strip()
        owner = self.tokens.get(token)
        if not auth.startswith("Idaas ") or owner is None or owner[0] != estab or owner[1] < dt.datetime.now(dt.timezone.utc):
            return _json(start_response, {"ExceptionMessage": "Authorization has been denied for this request."},
                         status="401 Unauthorized")
        school = self.schools[estab]
        if endpoint not in ENDPOINTS:
            # The real service reports many errors with HTTP 200.
            return _json(start_response, {"ExceptionMessage": f"Unknown endpoint {endpoint}"})
        if endpoint == "SchoolInfo":
            return _json(start_response, {"SchoolInfo": [{"Id": estab, "Name": f"School {estab}", "Phase": "Primary"}]})
        if endpoint == "assessmentstructure":
            return _json(start_response, {"AssessmentStructure": school.structure()})
        table = {"assessmentresults": "AssessmentResults"}.get(endpoint, endpoint)
        changed = query.get("changedRows", "*")
        if changed != "*" and not changed.isdigit():
            return _json(start_response, {"ExceptionMessage": f"Invalid changedRows token '{changed}'"})
        if endpoint == "Groups" and query.get("options") != "includeMembersIds":
            rows, gone = school.rows_since(table, 0 if changed == "*" else int(changed))
            rows = [{k: v for k, v in row.items() if k != "MemberIds"} for row in rows]
        else:
            rows, gone = school.rows_since(table, 0 if changed == "*" else int(changed))
        page = int(query.get("page", "1"))
        chunk = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        more = page * PAGE_SIZE < len(rows)
        body = {table: chunk, "NextChangedRows": str(school.version)}
        if page == 1:
            body[f"{table}_deleted"] = gone
        next_query = dict(query, page=str(page + 1))
        base = f"{environ.get('wsgi.url_scheme', 'http')}://{environ['HTTP_HOST']}{path}"
        body["__pagination__"] = {"NextPage": f"{base}?{urlencode(next_query)}" if more else None}
        return _json(start_response, body)


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
