"""A client for Groupcall Xporter on Demand.

- ``POST /api/oauth/GetToken`` with estab, relyingParty, password and thirdpartyid gives a token,
  sent as ``Authorization: Idaas <token>`` and renewed a minute before it expires.
- ``GET /api/v1/School/{estab}/{Endpoint}`` pages through ``__pagination__.NextPage``.
- Incremental sync: ``changedRows=*`` the first time, then the ``NextChangedRows`` it returned;
  rows that went away arrive in ``{Table}_deleted``.
- Errors can arrive with HTTP 200 and an ``ExceptionMessage``; 5xx answers are retried with
  exponential backoff (urllib3's Retry) before the client gives up.
- Its connections follow the outgoing policy (``shared.outgoing``): TLS 1.2 or newer, and in
  production an http:// base URL is refused before anything is sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import requests
from urllib3.util.retry import Retry

from shared import clock
from shared.outgoing import InsecureConnectionRefused, outgoing_session, outgoing_url_check

TOKEN_RENEW_MARGIN = dt.timedelta(seconds=60)
TABLE_OF = {"assessmentresults": "AssessmentResults", "assessmentstructure": "AssessmentStructure"}


class XporterError(Exception):
    """Xporter refused or failed a request; the message says which and why."""


@dataclass
class XporterResult:
    """What one endpoint returned, all pages together."""

    endpoint: str
    rows: list = field(default_factory=list)
    deleted: list = field(default_factory=list)
    next_changed_rows: str | None = None


class XporterClient:
    def __init__(self, *, base_url: str, estab: str, relying_party: str, password: str, third_party_id: str = "",
                 timeout: float = 60, retries: int = 4, backoff: float = 0.5):
        try:
            outgoing_url_check(base_url, service="Xporter")
        except InsecureConnectionRefused as refusal:
            raise XporterError(str(refusal)) from None
        self.base_url = base_url.rstrip("/")
        self.estab = estab
        self._credentials = {"estab": estab, "relyingParty": relying_party, "password": password,
                             "thirdpartyid": third_party_id}
        self.timeout = timeout
        retry = Retry(total=retries, backoff_factor=backoff, status_forcelist=(500, 502, 503, 504),
                      allowed_methods=frozenset({"GET", "POST"}), raise_on_status=False)
        # TLS 1.2+, certificate checked; in production no plain HTTP, next-page links included.
        self.session = outgoing_session(max_retries=retry)
        self._token: str | None = None
        self._token_expires: dt.datetime | None = None

    def _authorization(self) -> str:
        if self._token is None or self._token_expires is None or clock.now() >= self._token_expires - TOKEN_RENEW_MARGIN:
            response = self.session.post(f"{self.base_url}/api/oauth/GetToken", data=self._credentials, timeout=self.timeout)
            body = self._body(response, "GetToken")
            token = body.get("token") or body.get("AccessToken") or body.get("access_token")
            if not token:
                raise XporterError("GetToken: the answer has no token")
            self._token = token
            self._token_expires = _expiry(body)
        return f"Idaas {self._token}"

    @staticmethod
    def _body(response: requests.Response, what: str) -> dict:
        try:
            body = response.json()
        except ValueError:
            raise XporterError(f"{what}: HTTP {response.status_code}, not JSON") from None
        if isinstance(body, dict) and body.get("ExceptionMessage"):
            raise XporterError(f"{what}: {body['ExceptionMessage']}")
        if response.status_code >= 400:
            raise XporterError(f"{what}: HTTP {response.status_code}")
        return body

    def fetch(self, endpoint: str, *, changed_rows: str | None = None, options: str | None = None) -> XporterResult:
        """Every page of one endpoint. ``changed_rows`` None asks for everything (``*``)."""
        table = TABLE_OF.get(endpoint, endpoint)
        params = {"changedRows": changed_rows or "*"}
        if options:
            params["options"] = options
        url: str | None = f"{self.base_url}/api/v1/School/{self.estab}/{endpoint}"
        result = XporterResult(endpoint=endpoint)
        while url:
            response = self.session.get(url, params=params, headers={"Authorization": self._authorization()},
                                        timeout=self.timeout)
            body = self._body(response, endpoint)
            page_rows = body.get(table, [])
            if isinstance(page_rows, dict):  # assessmentstructure is one object, not rows
                result.rows.append(page_rows)
            else:
                result.rows.extend(page_rows)
            result.deleted.extend(body.get(f"{table}_deleted") or [])
            result.next_changed_rows = body.get("NextChangedRows", result.next_changed_rows)
            url = (body.get("__pagination__") or {}).get("NextPage")
            params = None  # NextPage carries its own query
        return result


def _expiry(body: dict) -> dt.datetime:
    if body.get("expires"):
        return dt.datetime.fromisoformat(str(body["expires"]).replace("Z", "+00:00"))
    seconds = body.get("ExpiresIn") or body.get("expires_in") or 600
    return clock.now() + dt.timedelta(seconds=int(seconds))
