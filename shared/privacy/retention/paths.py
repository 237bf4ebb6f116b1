"""Deletion paths: how the records of each registered model leave the database, and the system
check (privacy.E005) that every model holding personal data has one.

The deleters live in ``orchestration.retention`` (they enter school schemas), which ``shared`` may
not import: orchestration's ``ready()`` declares what its deleters and daily purges remove with
``deletion_path``; the check here reads those declarations against the registry. A model may
instead be exempt, with its reason (``EXEMPT``): the reason is the documentation.

The odd ones, decided:

- ``privacy.ErasureLedgerEntry`` (ids and digests only) must outlive every backup that could still
  hold the erased person: a school's entries go once its schema is dropped and every backup key of
  it destroyed (unit ``erasure_ledger``), never while a key survives.
- ``support.SupportAccessLog`` is technical information (an operator's user id, the page opened):
  kept 365 days like the change log, day by day (unit ``support_log``); the grants themselves
  (``support.SupportAccessRequest``, the school's permission) stay with the client's records.
- ``sessions.Session``, ``rights.ExportLink`` and ``privacy.VendorExportLink``: expired sessions and
  the files (the vendor's: the content) of expired exports are purged daily
  (``orchestration.tasks.expired_sign_ins_and_exports_daily``); what is left goes with its request
  or the school's schema.
- ``privacy.DeletionRecord`` and ``privacy.RetentionRun`` hold no personal data (ids, kinds, dates,
  counts): they are the proof that deletion happened, and are kept.
"""

from __future__ import annotations

from django.core import checks

from shared.privacy.retention.registry import REGISTRY

# model label -> how its records are deleted (declared by the code that deletes them)
PATHS: dict[str, set[str]] = {}

# model label -> why it holds personal data with no deletion path of its own
EXEMPT: dict[str, str] = {
    "operators.Operator": "a member of the vendor's staff: the operator record stays while they work for the "
                          "vendor (staff records are not held under the notice's client categories); their "
                          "console account is deactivated, not deleted, when they leave, so the change log's "
                          "user ids keep pointing at someone",
}


def deletion_path(model_label: str, how: str) -> None:
    """Declare that ``model_label``'s records are deleted by ``how`` (a retention unit's kind, a
    scheduled purge)."""
    PATHS.setdefault(model_label, set()).add(how)


def deletion_paths(model_label: str) -> set[str]:
    return PATHS.get(model_label, set())


@checks.register(checks.Tags.models)
def deletion_path_check(app_configs=None, **kwargs):
    errors = []
    for label, policy in sorted(REGISTRY.items()):
        if not policy.personal or deletion_paths(label) or label in EXEMPT:
            continue
        errors.append(checks.Error(
            f"{label} holds personal data ({', '.join(sorted(policy.personal))}) in the {policy.category.value} "
            "category but nothing deletes it",
            hint="Give it a retention unit (collect and delete in orchestration.retention, named in DELETION_PATHS) "
                 "or an exemption with its reason in shared/privacy/retention/paths.py EXEMPT.",
            id="privacy.E005"))
    return errors
