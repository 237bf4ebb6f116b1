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

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Sequence:
    """A sequence owned by a column of a public table (an identity or serial id)."""

    table: str
    column: str
    sequence: str  # schema-qualified, as pg_get_serial_sequence names it


def citus_setup_sql(*, schemas: list[str], public_tables: list[str], sequences: list[Sequence]) -> list[str]:
    """The statements that turn an existing single-server database into the sharded layout, run
    once on the coordinator after the worker nodes are added (new schools are distributed as they
    are made: ``citus.enable_schema_based_sharding`` is on). ``schemas`` are every school schema,
    spare and the template; ``public_tables`` every table of public (partitions aside);
    ``sequences`` every sequence a public table's column owns.

    - Every public table is named, once, as a reference table or a Citus local table. Left to
      itself, ``create_reference_table`` would pull every table linked to it by a foreign key in
      as an *automatic* local table, which Citus may turn back into a plain table later.
    - A reference table's (and each school table's) rows are copied onto the nodes and the old
      copy stays on the coordinator's disk until truncated: it is.
    - Adding a table as a Citus local table resets its identity sequence to its start, so every
      public sequence is set back above its table's largest id (else the next sign-up fails on a
      duplicate key).
    - Where it is cheap, a statement does nothing the second time, so a script stopped part way can
      be run again."""
    references = [table for table in REFERENCE_TABLES]
    locals_ = sorted(set(public_tables) - set(REFERENCE_TABLES))
    missing = sorted(set(REFERENCE_TABLES) - set(public_tables))
    if missing:
        raise ValueError(f"declared reference tables missing from public: {', '.join(missing)}")

    def not_yet(table: str) -> sql.Composable:
        # Not "not in Citus's metadata": an earlier reference table may have pulled it in as a local table.
        return sql.SQL(" WHERE NOT EXISTS (SELECT 1 FROM citus_tables WHERE table_name = {}::regclass "
                       "AND citus_table_type = 'reference')").format(sql.Literal(f"public.{table}"))

    statements = [sql.SQL("CREATE EXTENSION IF NOT EXISTS citus")]
    statements += [sql.SQL("SELECT create_reference_table({})").format(sql.Literal(f"public.{table}")) + not_yet(table)
                   for table in references]
    # On a table Citus already added automatically, this marks it as chosen (no longer automatic).
    statements += [sql.SQL("SELECT citus_add_local_table_to_metadata({}, cascade_via_foreign_keys => true)").format(
        sql.Literal(f"public.{table}")) for table in locals_]
    statements += [sql.SQL("SELECT truncate_local_data_after_distributing_table({})").format(
        sql.Literal(f"public.{table}")) for table in references]
    # Never backwards: on a rerun, the sequence may already be past the committed ids.
    statements += [sql.SQL(
        "SELECT setval({seq}, greatest(coalesce(max({column}), 0) + 1, (SELECT CASE WHEN is_called THEN last_value + 1 "
        "ELSE last_value END FROM {seq_name})), false) FROM {table}").format(
        seq=sql.Literal(each.sequence), seq_name=sql.SQL(each.sequence), column=sql.Identifier(each.column),
        table=sql.Identifier("public", each.table))
        for each in sorted(sequences, key=lambda each: (each.table, each.column))]
    for schema in sorted(schemas):
        statements.append(sql.SQL("SELECT citus_schema_distribute({}::regnamespace) WHERE NOT EXISTS "
                                  "(SELECT 1 FROM pg_dist_schema WHERE schemaid = {}::regnamespace)").format(
            sql.Literal(schema), sql.Literal(schema)))
        statements.append(_schema_local_data_truncate(schema))
    statements.append(sql.SQL("SELECT citus_rebalance_start()"))
    return [sql_text(statement) for statement in statements]


def _schema_local_data_truncate(schema: str) -> sql.Composable:
    return sql.SQL(
        "SELECT truncate_local_data_after_distributing_table(c.oid) FROM pg_class c WHERE c.relnamespace = "
        "{}::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition").format(sql.Literal(schema))


def schema_local_data_truncate_sql(schema: str) -> str:
    """After ``citus_schema_distribute``: drop the coordinator's now-invisible copy of the rows."""
    return sql_text(_schema_local_data_truncate(schema))
