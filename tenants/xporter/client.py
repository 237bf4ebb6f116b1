"""A client for Groupcall Xporter on Demand, as Groupcall documents it and as recorded answers of
the real service show (section numbers below are those of the project's Xporter reference).

- ``POST /api/oauth/GetToken`` with a JSON body (estab, relyingParty, password, thirdpartyid)
  gives a token, sent as ``Authorization: Idaas <token>`` and renewed a minute before it expires.
  A refused request answers ``token: null`` and ``expires: "0001-01-01T00:00:00"`` with an
  ``ExceptionMessage``: the client raises it and stores nothing.
- ``GET /api/v1/School/{estab}/{Endpoint}``: each result set is a top-level array of rows, under
  keys that are not the endpoint's name (``StudentContacts`` answers ``StudentContact``, ``Groups``
  answers ``Group``, ``StaffMembers``...); keys are matched without regard to case.
- Metadata blocks are arrays holding one object: ``__pagination__[0]`` pages until ``PageNumber``
  reaches ``PageCount`` (the last page still fills ``NextPage``), and every page repeats the
  first page's ``changedRows``, ``options`` and parameters (``NextPage`` carries only the paging).
- A changeset: ``changedRows=*`` starts one, ``__changedRows__[0].NextChangedRows`` continues it,
  and ``{ResultSet}_deleted`` lists the Ids gone since. It belongs to one endpoint with one exact
  set of options and parameters: ``changeset_key`` names that combination.
- Errors can arrive with HTTP 200 and an ``ExceptionMessage``; 5xx answers are retried with
  exponential backoff (urllib3's Retry) before the client gives up.
- ``assessmentresults`` answers only with one of its documented filters; the client refuses to
  ask without one.
- Its connections follow the outgoing policy (``shared.outgoing``): TLS 1.2 or newer, and in
  production an http:// base URL is refused before anything is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import requests
from urllib3.util.retry import Retry

from shared import clock
from shared.outgoing import InsecureConnectionRefused, outgoing_session, outgoing_url_check

TOKEN_RENEW_MARGIN = dt.timedelta(seconds=60)
PAGE_SIZE = 1000
NEVER = "0001-01-01T00:00:00"  # .NET's DateTime.MinValue: the expiry of a refused token

# The result sets each endpoint answers, main one first, as the service spells them (reference §4.1, §7).
RESULT_SETS: dict[str, tuple[str, ...]] = {
    "students": ("Students", "StudentSiblings"),
    "contacts": ("Contacts",),
    "studentcontacts": ("StudentContact",),
    "groups": ("Group", "StaffMembers", "StudentMembers", "GroupTypes"),
    "schoolinfo": ("SchoolInfo",),
    "staff": ("Staff",),
    "assessmentstructure": ("Aspects", "ResultSets", "Categories", "Templates", "Marksheets", "Columns",
                            "GradeSets", "Grades", "MarkSets", "GradeSetHistory"),
    # Never observed; Groupcall's own key tables write "AsmResults.StudentId".
    "assessmentresults": ("AsmResults",),
    "sen": ("StudentSENTypeHistory", "StudentSENProvisionHistory", "StudentDisabilities"),
}
# At least one is required; dates alone only narrow what these select (reference §7.7).
RESULT_FILTERS = ("students", "groups", "aspects", "resultsets", "templates", "columns", "marksheets")
ERROR_KEYS = frozenset({"message", "exceptiontype", "exceptionmessage", "innerexception"})
METADATA_KEYS = frozenset({"meta", "__pagination__", "__changedrows__"}) | ERROR_KEYS


class XporterError(Exception):
    """Xporter refused or failed a request; the message says which and why."""


@dataclass
class XporterResult:
    """What one endpoint returned, all pages together. ``rows`` and ``deleted`` are the main
    result set's; ``tables`` and ``deleted_tables`` hold every result set by its documented key
    (a key the reference does not list is kept as it came)."""

    endpoint: str
    rows: list = field(default_factory=list)
    deleted: list = field(default_factory=list)
    next_changed_rows: str | None = None
    tables: dict[str, list] = field(default_factory=dict)
    deleted_tables: dict[str, list] = field(default_factory=dict)
    changeset: str = ""


def options_text(options: str | Iterable[str] | None) -> str:
    if not options:
        return ""
    return options if isinstance(options, str) else ",".join(options)


def changeset_key(endpoint: str, options: str | Iterable[str] | None = None,
                  params: Mapping[str, str] | None = None) -> str:
    """The name of one changeset: the endpoint with the exact options and parameters it is asked
    with (paging aside). A token from one combination is never sent with another."""
    query = dict(params or {})
    if options:
        query["options"] = options_text(options)
    return f"{endpoint}?{urlencode(sorted(query.items()))}" if query else endpoint


def _get(body: Mapping, key: str):
    """``body[key]`` with the key matched without regard to case."""
    if key in body:
        return body[key]
    folded = key.casefold()
    return next((value for name, value in body.items() if name.casefold() == folded), None)


def _block(body: Mapping, key: str, what: str) -> Mapping | None:
    """A metadata block: an array holding one object (or absent)."""
    value = _get(body, key)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], Mapping):
        raise XporterError(f"{what}: {key} is not an array holding one object")
    return value[0]


def _error_of(body) -> str | None:
    if isinstance(body, Mapping):
        message = _get(body, "ExceptionMessage")
        if message:
            return str(message)
    return None


class XporterClient:
    def __init__(self, *, base_url: str, estab: str, relying_party: str, password: str, third_party_id: str = "",
                 timeout: float = 60, retries: int = 4, backoff: float = 0.5, page_size: int = PAGE_SIZE):
        try:
            outgoing_url_check(base_url, service="Xporter")
        except InsecureConnectionRefused as refusal:
            raise XporterError(str(refusal)) from None
        self.base_url = base_url.rstrip("/")
        self.estab = estab
        self._credentials = {"estab": estab, "relyingParty": relying_party, "password": password,
                             "thirdpartyid": third_party_id or "XporterOnDemand"}
        self.timeout = timeout
        self.page_size = page_size
        retry = Retry(total=retries, backoff_factor=backoff, status_forcelist=(500, 502, 503, 504),
                      allowed_methods=frozenset({"GET", "POST"}), raise_on_status=False)
        # TLS 1.2+, certificate checked; in production no plain HTTP, next-page links included.
        self.session = outgoing_session(max_retries=retry)
        self._token: str | None = None
        self._token_expires: dt.datetime | None = None

    def _authorization(self) -> str:
        if self._token is None or self._token_expires is None or clock.now() >= self._token_expires - TOKEN_RENEW_MARGIN:
            response = self._send("POST", f"{self.base_url}/api/oauth/GetToken", "GetToken", json=self._credentials)
            body = self._body(response, "GetToken")
            token, expires = _get(body, "token"), _get(body, "expires")
            if not token or not expires or str(expires).startswith(NEVER):
                raise XporterError("GetToken: Xporter gave no token" + (f" ({_error_of(body)})" if _error_of(body) else ""))
            when = _expiry(str(expires))
            if when <= clock.now():
                raise XporterError(f"GetToken: the token Xporter gave expired already ({expires})")
            self._token, self._token_expires = str(token), when
        return f"Idaas {self._token}"

    def _send(self, method: str, url: str, what: str, **kwargs) -> requests.Response:
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.exceptions.SSLError:
            raise
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
            # Retries ran out (urllib3 counts dropped connections too): the service is unreachable.
            raise XporterError(f"{what}: Xporter could not be reached ({type(error).__name__})") from error

    @staticmethod
    def _body(response: requests.Response, what: str) -> dict:
        try:
            body = response.json()
        except ValueError:
            raise XporterError(f"{what}: HTTP {response.status_code}, not JSON") from None
        if _error_of(body):
            raise XporterError(f"{what}: {_error_of(body)}")
        if response.status_code >= 400:
            raise XporterError(f"{what}: HTTP {response.status_code}")
        if not isinstance(body, dict):
            raise XporterError(f"{what}: the answer is not a JSON object")
        return body

    def token_details(self) -> dict:
        """What the school's token is for (reference §2.5, ``GET /api/v1/TokenDetails``): its
        ``Estab``, ``Expires``, the application's ``Name`` and ``RelyingParty``, and ``Scopes``,
        the data the school authorised (a field outside them is left out of every row)."""
        response = self._send("GET", f"{self.base_url}/api/v1/TokenDetails", "TokenDetails",
                              headers={"Authorization": self._authorization()})
        body = self._body(response, "TokenDetails")
        scopes = _get(body, "Scopes")
        if scopes is not None and (not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes)):
            raise XporterError("TokenDetails: Scopes is not a list of names")
        return {"Estab": _get(body, "Estab"), "Expires": _get(body, "Expires"), "Name": _get(body, "Name"),
                "RelyingParty": _get(body, "RelyingParty"), "Scopes": list(scopes or [])}

    def fetch(self, endpoint: str, *, changed_rows: str | None = None, options: str | Iterable[str] | None = None,
              params: Mapping[str, str] | None = None) -> XporterResult:
        """Every page of one endpoint. ``changed_rows`` ``"*"`` starts a changeset, a token
        continues one, None asks for everything without one."""
        fixed = dict(params or {})
        if endpoint.casefold() == "assessmentresults" and not any(
                name.casefold() in RESULT_FILTERS and value for name, value in fixed.items()):
            raise XporterError("assessmentresults: Xporter answers only with a filter "
                               "(Students, Groups, Aspects, ResultSets, Templates, Columns or Marksheets)")
        if options:
            fixed["options"] = options_text(options)
        if changed_rows:
            fixed["changedRows"] = changed_rows
        url = f"{self.base_url}/api/v1/School/{self.estab}/{endpoint}/"
        known = RESULT_SETS.get(endpoint.casefold(), (endpoint,))
        result = XporterResult(endpoint=endpoint, changeset=changeset_key(endpoint, options, params),
                               tables={name: [] for name in known}, deleted_tables={})
        paging = {"page": "1", "pageSize": str(self.page_size)}
        first_token = None
        while True:
            response = self._send("GET", url, endpoint, params={**fixed, **paging},
                                  headers={"Authorization": self._authorization()})
            body = self._body(response, endpoint)
            self._collect(body, known, result)
            changes = _block(body, "__changedRows__", endpoint)
            token = _get(changes, "NextChangedRows") if changes else None
            if changed_rows and token:
                if first_token is not None and token != first_token:
                    raise XporterError(f"{endpoint}: the changeset changed while its pages were read")
                first_token = token
            page = _block(body, "__pagination__", endpoint)
            if page is None:
                break
            number, count = _get(page, "PageNumber"), _get(page, "PageCount")
            if not isinstance(number, int) or not isinstance(count, int):
                raise XporterError(f"{endpoint}: __pagination__ has no PageNumber/PageCount")
            if number >= count:
                break
            # NextPage is a relative query (``?page=2&pageSize=25``): only its paging is taken.
            following = dict(parse_qsl(str(_get(page, "NextPage") or "").lstrip("?")))
            following = {k: v for k, v in following.items() if k.casefold() in ("page", "pagesize")}
            next_number = int(_get(following, "page") or number + 1)
            if next_number <= number:
                raise XporterError(f"{endpoint}: NextPage does not move past page {number}")
            paging = {"page": str(next_number), "pageSize": str(_get(following, "pageSize") or paging["pageSize"])}
        main = known[0]
        result.rows, result.deleted = result.tables.get(main, []), result.deleted_tables.get(main, [])
        result.next_changed_rows = first_token
        return result

    @staticmethod
    def _collect(body: Mapping, known: tuple[str, ...], result: XporterResult) -> None:
        spelling = {name.casefold(): name for name in known}
        for key, value in body.items():
            folded = key.casefold()
            if folded in METADATA_KEYS or folded.startswith("__"):
                continue
            if folded.endswith("_deleted"):
                name = spelling.get(folded.removesuffix("_deleted"), key.removesuffix("_deleted"))
                target = result.deleted_tables.setdefault(name, [])
            else:
                name = spelling.get(folded, key)
                target = result.tables.setdefault(name, [])
            if not isinstance(value, list):
                raise XporterError(f"{result.endpoint}: {key} is not an array of rows")
            target.extend(value)


def _expiry(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise XporterError(f"GetToken: the expiry {text[:40]!r} is not a date and time") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
