"""How the database maps onto Citus with schema-based sharding (ops/scale-out.md), declared in
one place and checked against the real schemas by tests/ops/test_scale_out.py.

- Every school schema becomes a *distributed schema*: all its tables live together on one worker
  node, so a school's queries stay on one node.
- Public tables that school pages read become *reference tables*, copied to every node, so a
  school's statements never leave its node for them.
- The vendor's large, append-only logs stay on the coordinator (*Citus local tables*): school
  code only ever writes single rows to them, in statements of their own.
- Everything else in public is the vendor's own, used by the console and the workers on the
  coordinator."""

from __future__ import annotations

from psycopg2 import sql

from shared.pg_tools import sql_text

# Read by school-site requests (the domain lookup, the notice footer, retention and support pages).
REFERENCE_TABLES = (
    "schools_school", "schools_domain", "compliance_noticeversion", "privacy_deletionrecord", "privacy_legalhold",
    "privacy_retentionshortening", "support_supportaccessrequest", "support_supportaccesslog",
    # the Terms of Use gate reads them on every page a school admin opens; the admin's acceptance writes one row
    "compliance_termsversion", "compliance_termsacceptance",
)
# Written by every school's activity, read by the console: kept on the coordinator.
COORDINATOR_LOGS = ("technical_changelogentry", "technical_visit", "privacy_erasureledgerentry")


def citus_setup_sql(school_schemas: list[str]) -> list[str]:
    """The statements that turn an existing single-server database into the sharded layout, run
    once on the coordinator after the worker nodes are added (new schools are distributed as they
    are made: ``citus.enable_schema_based_sharding`` is on)."""
    statements = [sql.SQL("CREATE EXTENSION IF NOT EXISTS citus")]
    statements += [sql.SQL("SELECT create_reference_table({})").format(sql.Literal(f"public.{table}"))
                   for table in REFERENCE_TABLES]
    statements += [sql.SQL("SELECT citus_add_local_table_to_metadata({})").format(sql.Literal(f"public.{table}"))
                   for table in COORDINATOR_LOGS]
    statements += [sql.SQL("SELECT citus_schema_distribute({})").format(sql.Literal(schema))
                   for schema in sorted(school_schemas)]
    statements.append(sql.SQL("SELECT citus_rebalance_start()"))
    return [sql_text(statement) for statement in statements]
