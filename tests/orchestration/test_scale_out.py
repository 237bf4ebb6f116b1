"""The code stays ready for Citus schema-based sharding (ops/scale-out.md), checked against the
real schemas: each school schema can become a distributed schema on a worker node only if no
school table points into public, ids cannot run out, and no statement a request runs touches two
schemas at once."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from orchestration.scale_out import COORDINATOR_LOGS, REFERENCE_TABLES, citus_setup_sql
from tenants.assessment.models import Aspect
from tenants.pupils.models import Group, Pupil
from tests.helpers import school_client

pytestmark = pytest.mark.django_db

TABLE_IN_SQL = re.compile(r'\b(?:FROM|JOIN|UPDATE|INTO)\s+(?:"?(\w+)"?\.)?"(\w+)"', re.IGNORECASE)


def tables_of(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def test_no_school_table_has_a_foreign_key_into_public(oakfield):
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.conrelid::regclass::text, c.confrelid::regclass::text
            FROM pg_constraint c
            JOIN pg_class src ON src.oid = c.conrelid JOIN pg_namespace sn ON sn.oid = src.relnamespace
            JOIN pg_class dst ON dst.oid = c.confrelid JOIN pg_namespace dn ON dn.oid = dst.relnamespace
            WHERE c.contype = 'f' AND sn.nspname = %s AND dn.nspname <> sn.nspname""", [oakfield.school.schema_name])
        assert cursor.fetchall() == []


@pytest.mark.parametrize("which", ["public", "school"])
def test_every_id_is_64_bit(oakfield, which):
    schema = "public" if which == "public" else oakfield.school.schema_name
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = %s AND t.table_type = 'BASE TABLE'
              AND (c.column_name = 'id' OR c.column_name LIKE '%%\\_id')
              AND c.data_type IN ('integer', 'smallint')
            ORDER BY 1, 2""", [schema])
        narrow = cursor.fetchall()
    assert narrow == [], narrow


def test_no_request_runs_a_statement_across_two_schemas(oakfield, password):
    """Every page of the school site, as each role: each statement touches one schema only."""
    schema = oakfield.school.schema_name
    school_tables = tables_of(schema)
    with schema_context(schema):
        pupil = Pupil.objects.order_by("pk").first().pk
        group = Group.objects.filter(kind=Group.Kind.TEACHING).order_by("pk").first().pk
        aspect = Aspect.objects.order_by("pk").first().pk
    pages = {
        oakfield.demo.head_email: ["/", "/pupils/", f"/pupils/{pupil}/", f"/pupils/{pupil}/report/", "/analysis/",
                                   f"/groups/{group}/marksheet/?aspect={aspect}", "/users/", "/import/", "/retention/",
                                   "/rights/", "/settings/", "/support/", "/privacy/"],
        oakfield.demo.teacher_email: ["/", "/pupils/", f"/groups/{group}/marksheet/"],
        oakfield.demo.parent_email: ["/"],
    }
    crossing, seen, public_read = [], set(), set()
    for email, paths in pages.items():
        with CaptureQueriesContext(connection) as statements:
            client = school_client(oakfield, email, password)
            for path in paths:
                assert client.get(path).status_code == 200, path
        for sql in (query["sql"] for query in statements.captured_queries):
            schemas = {qualifier or (schema if table in school_tables else "public")
                       for qualifier, table in TABLE_IN_SQL.findall(sql)}
            seen |= schemas
            public_read.update(t for q, t in TABLE_IN_SQL.findall(sql) if (q or ("x" if t in school_tables else "public")) == "public")
            if len(schemas) > 1:
                crossing.append((email, sql[:300]))
    assert seen == {schema, "public"}  # the check saw both kinds of statement
    assert crossing == []
    # The public tables a school's pages read are declared reference tables (copied to every node).
    assert public_read - set(REFERENCE_TABLES) == set()


def public_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                       "AND relkind IN ('r', 'p') AND NOT relispartition")
        return {row[0] for row in cursor.fetchall()}


def citus_setup_output() -> list[str]:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("citus_setup_sql", stdout=out)
    return out.getvalue().splitlines()


def test_the_citus_setup_names_every_public_table_once_as_reference_or_local():
    lines = citus_setup_output()
    reference = re.findall(r"^SELECT create_reference_table\('public\.(\w+)'\)", "\n".join(lines), re.M)
    local = re.findall(r"^SELECT citus_add_local_table_to_metadata\('public\.(\w+)', cascade_via_foreign_keys => true\)",
                       "\n".join(lines), re.M)
    assert lines[0] == "CREATE EXTENSION IF NOT EXISTS citus;"
    assert sorted(reference) == sorted(REFERENCE_TABLES)
    assert set(COORDINATOR_LOGS) <= set(local)
    assert sorted(reference + local) == sorted(public_tables())  # each once, none left for Citus to pick
    # The rows a reference table copies onto the nodes do not stay behind on the coordinator's disk.
    truncated = re.findall(r"^SELECT truncate_local_data_after_distributing_table\('public\.(\w+)'\)", "\n".join(lines), re.M)
    assert sorted(truncated) == sorted(REFERENCE_TABLES)


def test_the_citus_setup_restores_every_public_sequence_to_its_tables_largest_id():
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT t.relname, a.attname FROM pg_depend d
            JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
            JOIN pg_class t ON t.oid = d.refobjid AND t.relnamespace = 'public'::regnamespace
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
            WHERE d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')""")
        owned = sorted(cursor.fetchall())
    lines = [line for line in citus_setup_output() if line.startswith("SELECT setval(")]
    restored = sorted(re.findall(r"max\(\"?(\w+)\"?\), 0\) \+ 1, .* FROM \"public\"\.\"(\w+)\";$", line)[0][::-1]
                      for line in lines)
    assert restored == owned
    assert {"users_user", "operators_operator", "schools_school", "technical_changelogentry"} <= {t for t, _ in owned}
    # Run here, on one server, each statement leaves its sequence's next value where it was (above the
    # table's largest id), never behind it.
    def next_values() -> dict[str, tuple[int, int]]:
        values = {}
        with connection.cursor() as cursor:
            for table, column in owned:
                cursor.execute(f"SELECT pg_get_serial_sequence('public.{table}', '{column}')")
                (sequence,) = cursor.fetchone()
                cursor.execute(f"SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {sequence}")
                (following,) = cursor.fetchone()
                cursor.execute(f'SELECT coalesce(max("{column}"), 0) FROM public."{table}"')
                values[table] = (following, cursor.fetchone()[0])
        return values

    before = next_values()
    with connection.cursor() as cursor:
        for line in lines:
            cursor.execute(line)
    after = next_values()
    assert after == before
    assert all(following > largest for following, largest in after.values())


def test_the_citus_setup_distributes_every_school_every_spare_and_the_template(oakfield, riverside):
    from orchestration.pool import TEMPLATE_SCHEMA
    from shared.schools.models import SpareSchema

    out = "\n".join(citus_setup_output())
    distributed = re.findall(r"^SELECT citus_schema_distribute\('(\w+)'::regnamespace\)", out, re.M)
    schemas = {oakfield.school.schema_name, riverside.school.schema_name, TEMPLATE_SCHEMA,
               *SpareSchema.objects.values_list("schema_name", flat=True)}
    assert len(schemas) >= 4 and schemas <= set(distributed)
    for schema in distributed:  # and drops the coordinator's copy of its rows
        assert f"relnamespace = '{schema}'::regnamespace" in out
    assert out.splitlines()[-1] == "SELECT citus_rebalance_start();"


def test_the_citus_setup_is_the_same_whatever_the_order_it_is_given():
    from orchestration.scale_out import Sequence

    tables = [*REFERENCE_TABLES, "b_table", "a_table"]
    sequences = [Sequence("b_table", "id", "public.b_table_id_seq"), Sequence("a_table", "id", "public.a_table_id_seq")]
    assert citus_setup_sql(schemas=["b", "a"], public_tables=tables, sequences=sequences) == citus_setup_sql(
        schemas=["a", "b"], public_tables=tables[::-1], sequences=sequences[::-1])
    with pytest.raises(ValueError, match="declared reference tables missing from public: schools_school"):
        citus_setup_sql(schemas=[], public_tables=[t for t in tables if t != "schools_school"], sequences=[])
