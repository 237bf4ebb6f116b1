"""Imports, from Xporter on Demand or from an uploaded Xporter-shaped file. Each records an
ImportRun; a failed one changes nothing else and keeps the previous import as the school's data."""

from __future__ import annotations

from collections.abc import Mapping

import requests
import structlog
from django.db import transaction

from shared import clock
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
    return XporterClient(base_url=connection.base_url, estab=connection.estab, relying_party=connection.relying_party,
                         password=connection.password, third_party_id=connection.third_party_id)


def _run(source: str, work, fetch=lambda: None) -> ImportRun:
    """``fetch()`` (outside the transaction: it waits on the network), then ``work(fetched)`` in
    one transaction. Every outcome, a failure of either included, is recorded in the history."""
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
        log.warning("xporter.import_failed", source=source, error=str(error)[:300])
        raise
    except Exception as error:
        # A fault of ours, not the file's: the history still says the import failed, and when.
        run.error, run.finished_at = "The import failed on an internal error; nothing was changed.", clock.now()
        run.save()
        log.error("xporter.import_crashed", source=source, error_type=type(error).__name__)
        raise
    log.info("xporter.imported", source=source, **{k.replace(".", "_"): v for k, v in run.counts.items()})
    return run


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

    return _run(ImportRun.Source.API, work, fetch)


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
