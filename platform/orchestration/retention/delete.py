"""Deleting one retention unit, one function per unit kind (``DELETERS``). Each runs inside the
transaction that also writes the unit's deletion record, and returns the records it deleted, or
that and further fields of the deletion record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import connection
from django_tenants.utils import schema_context
from psycopg2 import sql

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.billing.models import CreditNote, Invoice, InvoiceLine, Payment
from shared.clients.models import ClientAccount, Complaint, Contact, Correspondence
from shared.clients.services import attachment_files_destroy
from shared.compliance.models import TermsAcceptance
from shared.marketing.models import Prospect
from shared.pg_tools import execute
from shared.schools.models import Domain, School


def _delete_tax_record(unit: str, as_of: dt.date) -> int:
    invoice_id = int(unit.split(":")[1])
    counts = [model.objects.filter(invoice_id=invoice_id).delete()[0] for model in (Payment, CreditNote, InvoiceLine)]
    return sum(counts) + Invoice.objects.filter(pk=invoice_id).delete()[0]


def _delete_client_records(unit: str, as_of: dt.date) -> int:
    """The client's correspondence (its attachments' files first, as for the school's configuration
    files: a failed unit leaves rows naming missing files, which the rerun deletes, never files no
    row names), complaints, contacts and accounts, and its acceptances of the Terms of Use."""
    school_id = int(unit.split(":")[1])
    attachment_files_destroy(school_id=school_id)
    total = 0
    for model in (Correspondence, Complaint, Contact, ClientAccount, TermsAcceptance):
        total += model.objects.filter(school_id=school_id).delete()[0]
    return total


def _delete_prospect(unit: str, as_of: dt.date) -> int:
    return Prospect.objects.filter(pk=int(unit.split(":")[1])).delete()[0]


def _drop_visit_partition(unit: str, as_of: dt.date) -> int:
    """Drop a month of visits whole. Its row count comes from the counts the flush keeps (counting
    ten million rows would cost more than the drop); a partition without one is counted."""
    from shared.audit.models import VisitPartitionRows

    counted = VisitPartitionRows.objects.filter(partition=unit).first()
    with connection.cursor() as cursor:
        partition = sql.Identifier("public", unit)
        if counted is None:
            execute(cursor, sql.SQL("SELECT count(*) FROM {}").format(partition))
            (rows,) = cursor.fetchone()
        else:
            rows = counted.rows
        execute(cursor, sql.SQL("DROP TABLE IF EXISTS {}").format(partition))
    VisitPartitionRows.objects.filter(partition=unit).delete()
    return rows


def _delete_change_log_month(unit: str, as_of: dt.date) -> int:
    year, month = map(int, unit.split(":")[1].split("-"))
    return ChangeLogEntry.objects.filter(occurred_at__year=year, occurred_at__month=month).delete()[0]


def _delete_school_configuration(unit: str, as_of: dt.date) -> int:
    """Settings, branding, uploaded documents and integration credentials: the rows in the school's
    schema (while it exists) and the school's whole folder of files."""
    from tenants.configuration.models import Branding, SchoolDocument
    from tenants.configuration.storage import school_folder_destroy
    from tenants.pupils.models import RetentionSettings
    from tenants.xporter.models import XporterConnection

    school = School.objects.get(pk=int(unit.split(":")[1]))
    # Files first: if this unit's transaction then fails, the rerun deletes the rows that named
    # them; the other order could commit with the files still on disk.
    deleted = school_folder_destroy(school.schema_name)
    if school.schema_dropped_at is None:
        with schema_context(school.schema_name):
            for model in (XporterConnection, RetentionSettings, Branding, SchoolDocument):
                deleted += model.objects.all().delete()[0]
    return deleted


def _delete_pupil(unit: str, as_of: dt.date) -> int:
    """A pupil who left, with their results, targets and family links; parents and carers left
    with no child at the school go too."""
    from tenants.pupils.models import ParentCarer, Pupil

    _, school_id, _, pupil_id = unit.split(":")
    school = School.objects.get(pk=int(school_id))
    with schema_context(school.schema_name):
        deleted = Pupil.objects.filter(pk=int(pupil_id)).delete()[0]
        deleted += ParentCarer.objects.filter(child_links__isnull=True).delete()[0]
    return deleted


def _drop_school_schema(unit: str, as_of: dt.date) -> int | tuple[int, dict]:
    """The school's schema, its domains and any files left; and its backup data keys, in the same
    transaction, so that every backup of the school becomes unreadable as the schema goes."""
    from shared.backups.keys import data_keys_destroy
    from tenants.configuration.storage import school_folder_destroy

    school = School.objects.select_for_update().get(pk=int(unit.split(":")[1]))
    if school.schema_dropped_at is not None:
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE n.nspname = %s AND c.relkind = 'r'", [school.schema_name])
        (tables,) = cursor.fetchone()
        # Deferred foreign-key checks queued earlier in this transaction must fire before their
        # tables go (PostgreSQL refuses to drop a table with pending trigger events).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        execute(cursor, sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(school.schema_name)))
    domains = Domain.objects.filter(tenant=school).delete()[0]
    school_folder_destroy(school.schema_name)  # any files a hold on the configuration kept
    school.schema_dropped_at = clock.now()
    school.save(update_fields=["schema_dropped_at"])
    keys = data_keys_destroy(school=school)
    return tables + domains, {"backup_keys_destroyed": keys}


# Each returns the records it deleted, or that and further fields of the deletion record.
DELETERS: dict[str, Callable[[str, dt.date], int | tuple[int, dict]]] = {
    "tax_record": _delete_tax_record,
    "client_records": _delete_client_records,
    "prospect": _delete_prospect,
    "visit_partition": _drop_visit_partition,
    "change_log": _delete_change_log_month,
    "school_configuration": _delete_school_configuration,
    "school_database": _drop_school_schema,
    "pupil": _delete_pupil,
}
