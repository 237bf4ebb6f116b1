"""Token introspection as the reference records it (§2.5, ``GET /api/v1/TokenDetails`` with the
Idaas header): the client reads the school, the expiry and the scopes; the fake answers the same
shape, with the scopes its school authorised."""

from __future__ import annotations

import pytest

from ops.xporter_fake import FakeSchool, FakeXporter, serve_in_thread
from tenants.xporter.client import XporterClient, XporterError
from tests.tenants.xporter.test_contract import Recorded, serve  # noqa: F401 (a fixture)

# As recorded in 2018 (reference §2.5); "..." stands for the rest of the list there.
TOKEN_DETAILS = {"Estab": "3281101", "Expires": "2018-06-24T18:55:26.1852229Z", "Name": "<app display name>",
                 "RelyingParty": "relying-party.com", "Scopes": ["Address", "AssessmentResults", "Student"],
                 "Message": None, "ExceptionType": None, "ExceptionMessage": None, "InnerException": None}


def test_the_client_reads_the_recorded_token_details_with_the_idaas_header(serve):  # noqa: F811
    recorded = Recorded({("TokenDetails", 1): TOKEN_DETAILS})
    client = serve(recorded)

    details = client.token_details()

    assert details["Estab"] == "3281101" and details["Scopes"] == ["Address", "AssessmentResults", "Student"]
    assert details["Expires"] == "2018-06-24T18:55:26.1852229Z" and details["RelyingParty"] == "relying-party.com"
    method, path, _, extra = recorded.seen[-1]
    assert (method, path) == ("GET", "/api/v1/TokenDetails") and extra["authorization"] == "Idaas c2Nob29sLXRva2VuLWV4YW1wbGU="


def test_an_error_in_the_token_details_is_raised_with_its_message(serve):  # noqa: F811
    client = serve(Recorded({("TokenDetails", 1): {**TOKEN_DETAILS, "Scopes": None,
                                                   "ExceptionMessage": "Token has expired"}}))

    with pytest.raises(XporterError, match="TokenDetails: Token has expired"):
        client.token_details()


def test_the_fake_answers_the_recorded_shape_with_its_schools_scopes():
    school = FakeSchool(estab="3281101", pupils=1, scopes=frozenset({"Student", "AssessmentResults"}))
    base_url, server = serve_in_thread(FakeXporter([school]))
    try:
        client = XporterClient(base_url=base_url, estab="3281101", relying_party="pt", password=school.password)
        body = client.session.get(f"{base_url}/api/v1/TokenDetails",
                                  headers={"Authorization": client._authorization()}).json()
        refused = client.session.get(f"{base_url}/api/v1/TokenDetails", headers={"Authorization": "Idaas nope"})
    finally:
        server.shutdown()

    assert set(body) == set(TOKEN_DETAILS)
    assert body["Estab"] == "3281101" and body["Scopes"] == ["AssessmentResults", "Student"]
    assert refused.status_code == 401
