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


def test_the_citus_setup_names_real_tables_and_every_school(oakfield, riverside, capsys):
    from django.core.management import call_command

    public = tables_of("public")
    assert set(REFERENCE_TABLES) <= public and set(COORDINATOR_LOGS) <= public
    call_command("citus_setup_sql")
    out = capsys.readouterr().out
    for school in (oakfield, riverside):
        assert f"citus_schema_distribute('{school.school.schema_name}')" in out
    assert out.splitlines()[0] == "CREATE EXTENSION IF NOT EXISTS citus;"
    assert citus_setup_sql(["b", "a"]) == citus_setup_sql(["a", "b"])
