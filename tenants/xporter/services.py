"""Imports, from Xporter on Demand or from an uploaded Xporter-shaped file. Each records an
ImportRun; a failed one changes nothing else and keeps the previous import as the school's data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import requests
import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.db import transaction

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from tenants.xporter import secret_box
from tenants.xporter.apply import import_payload
from tenants.xporter.client import XporterClient, XporterError, XporterResult, changeset_key
from tenants.xporter.models import ImportRun, XporterConnection
from tenants.xporter.parse import ImportRejected, document_from_json, payload_from_results, payload_from_xporter_json

log = structlog.get_logger(__name__)

# Structure first, then the rows that point at it; results last, filtered by the structure's aspects.
# Staff gives the work email behind each group's StaffIds, so teachers are matched to their groups.
ENDPOINTS = ("assessmentstructure", "Students", "Contacts", "StudentContacts", "Staff", "Groups", "assessmentresults")
# Staff comes whole every time: a changed group names staff who did not change themselves.
INCREMENTAL = frozenset(ENDPOINTS) - {"assessmentstructure", "Staff"}
# Groups: members as id lists; the structure: its grade sets, their grades and the history that
# links a grade to its set (reference §7.4, §7.6).
OPTIONS = {"Groups": "includeMembersIds", "assessmentstructure": "includeGradesets,includeGradesetHistory"}


class ImportNotConfigured(Exception):
    pass


def client_for(connection: XporterConnection) -> XporterClient:
    """The one place the school's secret is opened: to ask Xporter for a token."""
    try:
        secret = secret_box.unseal(connection.secret_sealed)
    except secret_box.SecretUnreadable as error:
        raise XporterError(str(error)) from None
    return XporterClient(base_url=connection.base_url, estab=connection.estab, relying_party=connection.relying_party,
                         password=secret, third_party_id=connection.third_party_id)


def _run(source: str, work, fetch=lambda: None, connection: XporterConnection | None = None) -> ImportRun:
    """``fetch()`` (outside the transaction: it waits on the network), then ``work(fetched)`` in
    one transaction. Every outcome, a failure of either included, is recorded in the history, and
    an API import's failure on the ``connection`` too (when and why, for the school admin)."""
    run = ImportRun(source=source, status=ImportRun.Status.FAILED, started_at=clock.now())
    try:
        fetched = fetch()
        with transaction.atomic():
            counts = work(fetched)
            run.status, run.counts, run.finished_at = ImportRun.Status.SUCCEEDED, counts.as_dict(), clock.now()
            run.save()
    except (XporterError, ImportRejected, requests.RequestException) as error:
        run.error, run.finished_at = _reason(error), clock.now()
        run.save()
        _failure_record(connection, run)
        log.warning("xporter.import_failed", source=source, error=str(error)[:300])
        raise
    except Exception as error:
        # A fault of ours, not the file's: the history still says the import failed, and when.
        run.error, run.finished_at = "The import failed on an internal error; nothing was changed.", clock.now()
        run.save()
        _failure_record(connection, run)
        log.error("xporter.import_crashed", source=source, error_type=type(error).__name__)
        raise
    log.info("xporter.imported", source=source, **{k.replace(".", "_"): v for k, v in run.counts.items()})
    return run


def _failure_record(connection: XporterConnection | None, run: ImportRun) -> None:
    if connection is not None and connection.pk is not None:
        XporterConnection.objects.filter(pk=connection.pk).update(last_failure_at=run.finished_at,
                                                                  last_failure_reason=run.error)


def _reason(error: Exception) -> str:
    if isinstance(error, requests.RequestException):
        return f"Xporter could not be reached ({type(error).__name__}); nothing was changed."
    return str(error)


def xporter_sync(*, client: XporterClient | None = None) -> ImportRun:
    """Fetch what changed since the last successful sync (everything the first time) and import it.
    The sync position moves only when the import succeeds."""
    connection = XporterConnection.objects.first()
    if connection is None or not connection.enabled:
        raise ImportNotConfigured("Xporter is not set up, or is switched off, for this school")

    def fetch() -> dict:
        nonlocal client
        client = client or client_for(connection)  # a refused setting is a failed import too
        fetched = {}
        for endpoint in ENDPOINTS:
            params = _results_filter(fetched["assessmentstructure"]) if endpoint == "assessmentresults" else None
            if endpoint == "assessmentresults" and not params:
                continue  # no aspect, no result to ask for
            key = changeset_key(endpoint, OPTIONS.get(endpoint), params)
            # A token only ever goes back with the endpoint, options and parameters it came from.
            token = (connection.cursors.get(key) or "*") if endpoint in INCREMENTAL else None
            fetched[endpoint] = client.fetch(endpoint, changed_rows=token, options=OPTIONS.get(endpoint), params=params)
        return fetched

    def work(fetched: dict):
        counts = import_payload(payload_from_results(fetched.values()))
        # In the import's transaction: a token moves only with every page of its changeset applied,
        # and a combination no longer asked for is forgotten (it would restart at "*").
        connection.cursors = {r.changeset: r.next_changed_rows for e, r in fetched.items()
                              if e in INCREMENTAL and r.next_changed_rows}
        connection.last_success_at = clock.now()
        connection.save(update_fields=["cursors", "last_success_at"])
        return counts

    return _run(ImportRun.Source.API, work, fetch, connection=connection)


def _results_filter(structure: XporterResult) -> dict[str, str]:
    """``assessmentresults`` needs a filter: every aspect of the structure, each with all its
    result sets (``Aspects`` without ``|ResultSetId``), sorted so the changeset stays the same
    while the aspects do."""
    ids = sorted({str(row.get("Id")) for row in structure.tables.get("Aspects", []) if isinstance(row, Mapping)
                  and row.get("Id") not in (None, "")})
    return {"Aspects": ",".join(ids)} if ids else {}


def xporter_file_import(*, document: Mapping | None = None, content: bytes | str | None = None) -> ImportRun:
    """Import an Xporter-shaped JSON document uploaded by the school: parsed already, or the
    file's ``content`` (whose failure to parse is recorded in the import history too)."""
    def work(_):
        parsed = document_from_json(content) if content is not None else document
        return import_payload(payload_from_xporter_json(parsed))

    return _run(ImportRun.Source.FILE, work)


# --- The school admin's settings ---------------------------------------------------------------

ESTAB = re.compile(r"^[0-9]{7}$")  # a DfE establishment number: local authority (3) and school (4)
SECRET_MAX = 200


def connection_get() -> XporterConnection | None:
    return XporterConnection.objects.first()


def connection_save(*, user, estab: str, secret: str = "", enabled: bool | None = None) -> XporterConnection:
    """Save the school's establishment number and (when given) its secret, sealed. Checked whole
    before anything is written; change-logged by field name (the secret's too, never its value)."""
    estab, secret = (estab or "").strip(), (secret or "").strip()
    errors = {}
    if "\x00" in estab or not ESTAB.match(estab):
        errors["estab"] = "The establishment number is 7 digits (local authority and school number), for example 3281102."
    if "\x00" in (secret or ""):
        errors["secret"] = "The secret cannot contain a NUL character."
    elif len(secret or "") > SECRET_MAX:
        errors["secret"] = f"The secret can be at most {SECRET_MAX} characters."
    existing = connection_get()
    if not secret and (existing is None or not existing.has_secret):
        errors.setdefault("secret", "Enter the school secret Groupcall issued when the school authorised the product.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = existing or XporterConnection(base_url=getattr(settings, "XPORTER_BASE_URL", XporterConnection._meta
                                                                 .get_field("base_url").default),
                                                relying_party=getattr(settings, "XPORTER_RELYING_PARTY", "pupiltracking"))
        changed = []
        if current.estab != estab:
            current.estab = estab
            changed.append("estab")
            if existing is not None:
                current.cursors = {}  # another school's changesets: start again from "*"
                changed.append("cursors")
        if secret:
            current.password = secret
            changed.append("secret_sealed")
        if enabled is not None and current.enabled != enabled:
            current.enabled = enabled
            changed.append("enabled")
        if not current.relying_party:
            current.relying_party = getattr(settings, "XPORTER_RELYING_PARTY", "pupiltracking")
            changed.append("relying_party")
        if existing is None or changed:
            current.save()
            change_log_record(actor=Actor.school_user(user, db_connection.schema_name), instance=current,
                              action=Action.CREATE if existing is None else Action.UPDATE, fields=changed)
    log.info("xporter.connection_saved", fields=changed)
    return current


def connection_switch(*, user, enabled: bool) -> XporterConnection:
    """On or off. Off: no more imports (nightly or on demand); what was imported stays."""
    current = connection_get()
    if current is None:
        raise ImportNotConfigured("Xporter is not set up for this school")
    if current.enabled != enabled:
        with transaction.atomic():
            current.enabled = enabled
            current.save(update_fields=["enabled"])
            change_log_record(actor=Actor.school_user(user, db_connection.schema_name), instance=current,
                              action=Action.UPDATE, fields=["enabled"])
        log.info("xporter.connection_switched", enabled=enabled)
    return current


@dataclass
class ConnectionCheck:
    ok: bool
    reason: str = ""
    scopes: list[str] = field(default_factory=list)
    expires: str = ""


def connection_test(*, client: XporterClient | None = None) -> ConnectionCheck:
    """Ask Xporter for a token with the saved settings, and what it grants (TokenDetails)."""
    current = connection_get()
    if current is None or not current.has_secret:
        return ConnectionCheck(False, "Xporter is not set up: save the establishment number and the secret first.")
    try:
        details = (client or client_for(current)).token_details()
    except XporterError as error:
        return ConnectionCheck(False, str(error))
    except requests.RequestException as error:
        return ConnectionCheck(False, f"Xporter could not be reached ({type(error).__name__}).")
    if details["Estab"] not in (None, "") and str(details["Estab"]) != current.estab:
        return ConnectionCheck(False, f"The token is for establishment {details['Estab']}, not {current.estab}.")
    return ConnectionCheck(True, scopes=sorted(details["Scopes"]), expires=str(details["Expires"] or ""))
