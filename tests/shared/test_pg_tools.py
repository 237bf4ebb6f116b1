"""Names put into SQL through shared.pg_tools are quoted by PostgreSQL's rules, on the real
database: a hostile schema or table name is one name, never more SQL."""

from __future__ import annotations

import pytest
from django.db import connection
from psycopg2 import sql

from shared.pg_tools import execute, sql_text

pytestmark = pytest.mark.django_db

HOSTILE = 'a"b; DROP TABLE schools_school; --'


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)", [name])
        return cursor.fetchone()[0]


def test_a_double_quote_in_a_name_is_doubled():
    assert sql_text(sql.SQL("DROP SCHEMA {}").format(sql.Identifier('a"b'))) == 'DROP SCHEMA "a""b"'
    assert sql_text(sql.SQL("SELECT {}").format(sql.Literal("it's"))) == "SELECT 'it''s'"


def test_a_hostile_schema_and_table_name_are_each_one_name():
    tables_before = connection.introspection.table_names()
    with connection.cursor() as cursor:
        execute(cursor, sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(HOSTILE)))
        execute(cursor, sql.SQL("CREATE TABLE {} (note text)").format(sql.Identifier(HOSTILE, "t; x y")))
        execute(cursor, sql.SQL("INSERT INTO {} (note) VALUES (%s)").format(sql.Identifier(HOSTILE, "t; x y")), ["kept"])
        cursor.execute("SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE n.nspname = %s", [HOSTILE])
        assert [row[0] for row in cursor.fetchall()] == ["t; x y"]
    assert schema_exists(HOSTILE)
    assert "schools_school" in tables_before and connection.introspection.table_names() == tables_before
    with connection.cursor() as cursor:
        execute(cursor, sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(HOSTILE)))
    assert not schema_exists(HOSTILE)


def test_a_percent_in_a_name_is_not_a_placeholder_when_parameters_follow():
    name = "p%s%%q"
    with connection.cursor() as cursor:
        execute(cursor, sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        execute(cursor, sql.SQL("COMMENT ON SCHEMA {} IS %s").format(sql.Identifier(name)), ["100% hostile"])
        cursor.execute("SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s", [name])
        assert cursor.fetchone() == ("100% hostile",)
    assert sql_text(sql.SQL("SELECT {}, %s").format(sql.Literal("5%")), params_follow=True) == "SELECT '5%%', %s"
