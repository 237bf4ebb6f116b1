"""The Xporter client against Groupcall's documented and recorded answers (``fixtures/``, each
from a section of the project's Xporter reference), served over real HTTP: a client that agrees
with our fake server but not with these fails here. Then the fake itself is held to the same
shapes, and a sync broken between two pages is shown to lose nothing."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests

from ops.xporter_fake import FakeSchool, FakeXporter, serve_in_thread
from shared import clock
from tenants.xporter.client import XporterClient, XporterError

FIXTURES = Path(__file__).parent / "fixtures"
ESTAB = "3281102"
HASH = "db69412c98782c1dd76addcad9b45be0"
NOW = dt.datetime(2021, 4, 12, 9, 0, tzinfo=dt.timezone.utc)  # token_success.json expires on 17 April 2021


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


class Recorded:
    """A tiny HTTP server of fixtures: ``routes`` maps (endpoint, page) to a fixture name (or a
    body), GetToken answers ``token`` (success by default). Every request is kept."""

    def __init__(self, routes: dict, token: str = "token_success"):
        self.routes, self.token = routes, token
        self.seen: list[tuple[str, str, dict, dict]] = []  # method, path, query, headers/body
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
        if method == "POST":
            body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)) or b"{}")
            extra = {"content_type": environ.get("CONTENT_TYPE", ""), "body": body}
            answer = fixture(self.token)
        else:
            extra = {"authorization": environ.get("HTTP_AUTHORIZATION", "")}
            endpoint = path.rstrip("/").split("/")[-1]
            answer = self.routes.get((endpoint, int(query.get("page", 1))))
            answer = fixture(answer) if isinstance(answer, str) else answer
        with self.lock:
            self.seen.append((method, path, query, extra))
        if answer is None:
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"Message": "No HTTP resource was found"}']
        data = json.dumps(answer).encode()
        start_response("200 OK", [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(data)))])
        return [data]

    def gets(self) -> list[dict]:
        return [query for method, _, query, _ in self.seen if method == "GET"]


@pytest.fixture
def serve(monkeypatch):
    """Start a fixture server; the client's clock stands before the documented token's expiry."""
    monkeypatch.setattr(clock, "now", lambda: NOW)
    servers = []

    def start(app) -> XporterClient:
        base_url, server = serve_in_thread(app)
        servers.append(server)
        return XporterClient(base_url=base_url, estab=ESTAB, relying_party="app.example.dev", password="secret",
                             retries=0, page_size=2)

    yield start
    for server in servers:
        server.shutdown()


# --- Envelope: arrays holding one object, NextChangedRows, _deleted ----------------------------


def test_the_changeset_token_is_read_from_the_changed_rows_array_and_deletions_arrive(serve):
    client = serve(Recorded({("Students", 1): "students_changeset"}))

    result = client.fetch("Students", changed_rows="0414025e3f87151229b8964169a480e5")

    assert result.next_changed_rows == HASH
    assert [row["Id"] for row in result.rows] == ["3116"]
    assert result.deleted == [{"Id": "3221"}]
    assert result.deleted_tables == {"Students": [{"Id": "3221"}], "StudentSiblings": []}


def test_a_first_changeset_sends_a_star_and_keeps_the_documented_token(serve):
    recorded = Recorded({("Students", 1): {"Students": [], **fixture("changed_rows_star")}})
    client = serve(recorded)

    result = client.fetch("Students", changed_rows="*")

    assert recorded.gets()[0]["changedRows"] == "*"
    assert result.next_changed_rows == HASH and result.deleted == []


def test_a_pagination_block_that_is_an_object_not_an_array_is_refused(serve):
    body = fixture("students_page1")
    body["__pagination__"] = body["__pagination__"][0]  # the shape the old client and fake assumed
    client = serve(Recorded({("Students", 1): body}))

    with pytest.raises(XporterError, match="__pagination__ is not an array holding one object"):
        client.fetch("Students")


# --- Paging ------------------------------------------------------------------------------------


def test_paging_stops_at_page_count_although_the_last_page_fills_next_page(serve):
    recorded = Recorded({("Students", 1): "students_page1", ("Students", 2): "students_page2",
                         ("Students", 3): "error"})
    client = serve(recorded)

    result = client.fetch("Students")

    assert [row["Id"] for row in result.rows] == ["3116", "3117", "3118", "3119"]
    assert [query["page"] for query in recorded.gets()] == ["1", "2"]


def test_one_page_with_next_page_filled_is_one_request(serve):
    recorded = Recorded({("Students", 1): "students_changeset", ("Students", 2): "error"})
    client = serve(recorded)

    client.fetch("Students", changed_rows="0414025e3f87151229b8964169a480e5")

    assert len(recorded.gets()) == 1


def test_every_page_carries_the_first_pages_changed_rows_options_and_parameters(serve):
    recorded = Recorded({("Students", 1): "students_page1", ("Students", 2): "students_page2"})
    client = serve(recorded)

    client.fetch("Students", changed_rows="*", options="includeGroupIds,includeLeavers", params={"studentStatus": "OnRoll"})

    first, second = recorded.gets()
    assert first == {"changedRows": "*", "options": "includeGroupIds,includeLeavers", "studentStatus": "OnRoll",
                     "page": "1", "pageSize": "2"}
    # NextPage is "?page=2&pageSize=2": a relative query holding only the paging.
    assert second == dict(first, page="2")


def test_a_request_without_paging_answered_without_a_pagination_block_is_one_page(serve):
    client = serve(Recorded({("SchoolInfo", 1): "school_info"}))

    result = client.fetch("SchoolInfo")

    assert [row["Name"] for row in result.rows] == ["EXAMPLE PRIMARY SCHOOL"]


# --- Result-set keys ---------------------------------------------------------------------------


def test_student_contacts_answer_student_contact(serve):
    client = serve(Recorded({("StudentContacts", 1): "student_contact"}))

    result = client.fetch("StudentContacts")

    assert [(row["StudentId"], row["ContactId"], row["ParResp"]) for row in result.rows] == [("10000", "10001", 1)]


def test_groups_answer_group_and_its_member_result_sets(serve):
    body = dict(fixture("groups"), __pagination__=[dict(fixture("groups")["__pagination__"][0], PageCount=1)])
    client = serve(Recorded({("Groups", 1): body}))

    result = client.fetch("Groups")

    assert [(row["Id"], row["Type"]) for row in result.rows] == [("31", "YearGrp")]
    assert {"Group", "StaffMembers", "StudentMembers", "GroupTypes"} <= set(result.tables)


def test_the_assessment_structure_answers_aspects_result_sets_and_categories(serve):
    client = serve(Recorded({("assessmentstructure", 1): "assessment_structure"}))

    result = client.fetch("assessmentstructure")

    assert result.rows == result.tables["Aspects"] and result.rows[0]["Id"] == "702"
    assert result.tables["ResultSets"][0]["Name"] == "Year 7 Spring Term"
    assert result.tables["Categories"] == [{"Id": "136", "categoryName": "Core"}]


def test_keys_are_matched_without_regard_to_case(serve):
    def lower(body: dict) -> dict:
        return {key.lower(): value for key, value in body.items()}

    client = serve(Recorded({("StudentContacts", 1): lower(fixture("student_contact")),
                             ("Students", 1): lower(fixture("students_changeset"))}))

    assert client.fetch("StudentContacts").rows[0]["ContactId"] == "10001"
    result = client.fetch("Students", changed_rows="0414025e3f87151229b8964169a480e5")
    assert (result.next_changed_rows, result.deleted) == (HASH, [{"Id": "3221"}])


# --- Errors and tokens -------------------------------------------------------------------------


def test_an_error_answered_with_http_200_is_an_error(serve):
    client = serve(Recorded({("Students", 1): "error"}))

    with pytest.raises(XporterError, match="Students: Something went wrong"):
        client.fetch("Students")


def test_the_token_request_is_the_documented_json_and_the_token_goes_as_idaas(serve):
    recorded = Recorded({("SchoolInfo", 1): "school_info"})
    client = serve(recorded)

    client.fetch("SchoolInfo")

    (_, path, _, token_request), (_, _, _, data_request) = recorded.seen
    assert path == "/api/oauth/GetToken" and token_request["content_type"].startswith("application/json")
    assert token_request["body"] == {"estab": ESTAB, "relyingParty": "app.example.dev", "password": "secret",
                                     "thirdpartyid": "XporterOnDemand"}
    assert data_request["authorization"] == "Idaas c2Nob29sLXRva2VuLWV4YW1wbGU="


@pytest.mark.parametrize("answer, message", [
    ("token_refused", "Relying Party not found for estab or secret not correct"),
    ("token_paused", "Authorisation is currently paused"),
])
def test_a_refused_token_is_an_error_and_nothing_is_stored_or_asked(serve, answer, message):
    recorded = Recorded({("Students", 1): "students_page1"}, token=answer)
    client = serve(recorded)

    with pytest.raises(XporterError, match=f"GetToken: {message}"):
        client.fetch("Students")

    assert (client._token, client._token_expires) == (None, None)
    assert recorded.gets() == []


# --- assessmentresults needs a filter ---------------------------------------------------------


def test_assessment_results_are_never_asked_without_a_filter(serve):
    recorded = Recorded({("assessmentresults", 1): {"AsmResults": []}})
    client = serve(recorded)

    with pytest.raises(XporterError, match="assessmentresults: Xporter answers only with a filter"):
        client.fetch("assessmentresults", params={"ResultDateFrom": "2024-09-01"})  # dates alone narrow, not select

    assert recorded.seen == []


def test_assessment_results_send_their_filter_on_every_page_and_an_error_answer_is_an_error(serve):
    recorded = Recorded({("assessmentresults", 1): "error"})
    client = serve(recorded)

    with pytest.raises(XporterError, match="assessmentresults: Something went wrong"):
        client.fetch("assessmentresults", params={"Aspects": "702|34,701|", "ResultDateFrom": "2024-09-01"})

    assert recorded.gets()[0]["Aspects"] == "702|34,701|"


# --- The fake answers with the fixtures' shapes -----------------------------------------------


def _shape(value):
    """Key sets and value types, recursively; a null matches any type."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return None if value is None else type(value).__name__


def _agrees(fake, documented, where="") -> list[str]:
    """Where the fake's answer differs from the documented one: a key the documentation does not
    have, a different type, a metadata block of another shape. The fake may leave out optional
    fields of a row (it serves fewer columns than a school's MIS holds)."""
    problems = []
    if isinstance(documented, dict) and isinstance(fake, dict):
        for key in fake:
            if key not in documented:
                problems.append(f"{where}{key}: not in the documented answer")
            else:
                problems += _agrees(fake[key], documented[key], f"{where}{key}.")
    elif isinstance(documented, list) and isinstance(fake, list):
        if documented and fake:
            problems += _agrees(fake[0], documented[0], f"{where}[0].")
    elif None not in (fake, documented) and fake != documented:
        problems.append(f"{where[:-1]}: {fake} where the documentation has {documented}")
    return problems


@pytest.fixture
def fake_server():
    # The sandbox school of the recordings: its token had no UPN scope, so no UPN key.
    school = FakeSchool(estab=ESTAB, pupils=6, results_per_pupil=4, teacher_emails=("t@example.com",),
                        scopes=frozenset({"Student", "StudentExtended", "SEN", "StudentFunding", "StudentFamily",
                                          "StudentDemographic", "Contact", "School", "AssessmentResults"}))
    app = FakeXporter([school])
    base_url, server = serve_in_thread(app)
    token = requests.post(f"{base_url}/api/oauth/GetToken", json={"estab": ESTAB, "relyingParty": "app.example.dev",
                                                                  "password": school.password}).json()

    def ask(endpoint: str, **query) -> dict:
        return requests.get(f"{base_url}/api/v1/School/{ESTAB}/{endpoint}/", params=query,
                            headers={"Authorization": f"Idaas {token['token']}"}).json()

    yield school, base_url, token, ask
    server.shutdown()


@pytest.mark.parametrize("endpoint, query, documented", [
    ("Students", {"page": "1", "pageSize": "2"}, "students_page1"),
    ("Students", {"page": "3", "pageSize": "2"}, "students_page2"),
    ("StudentContacts", {}, "student_contact"),
    ("Groups", {"page": "1", "pageSize": "2"}, "groups"),
    ("SchoolInfo", {}, "school_info"),
    ("assessmentstructure", {}, "assessment_structure"),
])
def test_the_fake_answers_with_the_documented_shapes(fake_server, endpoint, query, documented):
    *_, ask = fake_server

    answer = ask(endpoint, **query)
    if "meta" not in fixture(documented):
        answer.pop("meta", None)  # meta is not always sent

    assert _agrees(_shape(answer), _shape(fixture(documented))) == []
    assert set(answer) - {"meta"} == set(fixture(documented)) - {"meta"}  # meta is not always sent


def test_the_fakes_changesets_have_the_documented_envelope(fake_server):
    school, *_, ask = fake_server
    first = ask("Students", changedRows="*", page="1", pageSize="1000")
    school.delete_pupil("S00002")

    later = ask("Students", changedRows=first["__changedRows__"][0]["NextChangedRows"], page="1", pageSize="1000")

    documented = fixture("students_changeset")
    assert set(later) == set(documented)
    assert _agrees(_shape(later), _shape(documented)) == []
    assert later["Students_deleted"] == [{"Id": "S00002"}]
    assert set(first["__changedRows__"][0]) == set(fixture("changed_rows_star")["__changedRows__"][0])
    assert first["Students_deleted"] == [] and first["__changedRows__"][0]["SnapshotDate"] is None


@pytest.mark.parametrize("credentials, documented", [({"password": "xporter-secret"}, "token_success"),
                                                     ({"password": "wrong"}, "token_refused")])
def test_the_fakes_token_answers_have_the_documented_shape(fake_server, credentials, documented):
    _, base_url, *_ = fake_server

    answer = requests.post(f"{base_url}/api/oauth/GetToken",
                           json={"estab": ESTAB, "relyingParty": "app.example.dev", **credentials})

    assert answer.status_code == 200
    assert _agrees(_shape(answer.json()), _shape(fixture(documented))) == []
    assert set(answer.json()) == set(fixture(documented))
    if documented == "token_refused":
        assert answer.json()["expires"] == "0001-01-01T00:00:00" and answer.json()["token"] is None


def test_the_fake_leaves_out_the_fields_outside_the_schools_scopes(fake_server):
    school, *_, ask = fake_server
    row = ask("Students")["Students"][0]
    school.scopes = frozenset({"Student"})

    bare = ask("Students")["Students"][0]

    assert "UPN" not in row and {"SENProvision", "FSMEligible", "InLeaCare", "EthnicityCode", "DateofBirth"} <= set(row)
    assert not {"SENProvision", "FSMEligible", "InLeaCare", "EverInCare", "EthnicityCode", "DateofBirth"} & set(bare)
    assert (type(row["Id"]), type(row["FSMEligible"]), row["ServiceChild"] in ("0", "1")) == (str, int, True)


def test_the_fake_asks_assessment_results_for_a_filter_as_the_service_does(fake_server):
    *_, ask = fake_server

    refused = ask("assessmentresults")
    answered = ask("assessmentresults", Aspects="A-Maths")

    assert refused["ExceptionMessage"] and set(refused) == set(fixture("error"))
    assert answered["AsmResults"] and {row["AspectId"] for row in answered["AsmResults"]} == {"A-Maths"}
