"""What each kind of retention unit is, in the words the console and the school site show (the kinds
are orchestration.retention.collect's and run's)."""

from __future__ import annotations

UNIT_KINDS = {
    "pupil": "A leaver's records", "school_request": "A school's closed data request",
    "subject_request": "A data request made to us", "breach": "A breach record", "disclosure": "A disclosure record",
    "legal_hold": "An ended legal hold", "notice_version": "A replaced privacy-notice version",
    "terms_version": "A replaced Terms of Use version", "recipient_holding": "A record of data given to a recipient",
    "recipient": "A recipient", "erasure_ledger": "A deleted school's erasure ledger",
    "tax_record": "An invoice with its payments and credit notes", "client_records": "A client's contract and account records",
    "school_configuration": "A school's configuration files", "school_database": "A school's whole database",
    "contact": "A client's contact", "prospect": "A prospect", "visit_partition": "A month of the visit log",
    "visit_rows": "Visit log entries", "change_log": "A day of the change log", "support_log": "A day of the support log",
    "mail_log": "A day of the mail log", "mail_preference": "A mail preference",
}


def unit_kind_label(kind: str) -> str:
    return UNIT_KINDS.get(kind, kind.replace("_", " ").capitalize())
