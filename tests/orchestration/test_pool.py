"""The recipe makes school schemas identical to a migrated one; the pool follows the code's
migration state."""

from __future__ import annotations

import pytest
from django.db import connection

from orchestration import pool
from shared.schools.models import SchemaRecipe, SpareSchema

pytestmark = pytest.mark.django_db


def catalog(schema: str) -> dict:
    """What a schema holds, with its own name taken out so that two schemas compare."""
    queries = {
        "columns": """SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity
                      FROM information_schema.columns WHERE table_schema = %s""",
        "constraints": """SELECT rel.relname, con.conname, pg_get_constraintdef(con.oid)
                          FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
                          JOIN pg_namespace n ON n.oid = rel.relnamespace WHERE n.nspname = %s""",
        "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %s",
    }
    result = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql, [schema])
            result[name] = sorted(tuple(str(v).replace(schema, "<schema>") for v in row) for row in cursor.fetchall())
        for table, columns in [("django_migrations", "app, name"), ("django_content_type", "id, app_label, model"),
                               ("auth_permission", "id, codename, content_type_id")]:
            cursor.execute(f'SELECT {columns} FROM "{schema}"."{table}" ORDER BY 1, 2')
            result[table] = cursor.fetchall()
    return result


def test_a_schema_made_from_the_recipe_is_identical_to_a_migrated_one():
    made = pool.schema_build()

    template, replayed = catalog(pool.TEMPLATE_SCHEMA), catalog(made)

    assert replayed == template
    assert len(template["columns"]) > 20 and len(template["django_content_type"]) > 3


def test_the_recipe_is_recorded_once_per_migration_state():
    recipe = SchemaRecipe.objects.get()

    assert recipe.fingerprint == pool.migration_fingerprint()
    assert any(sql.startswith("CREATE TABLE") for sql, _, _ in recipe.statements)
    assert pool.template_ensure() is False  # current: nothing migrates again


def test_stale_spares_are_replaced_not_handed_out():
    stale = SpareSchema.objects.order_by("id").first()
    stale.fingerprint = "0ld0ld0ld0ld0ld0"
    stale.save()
    current_before = pool.spare_count()

    made = pool.pool_top_up(size=current_before + 1)

    assert made == 1
    assert not SpareSchema.objects.filter(pk=stale.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [stale.schema_name])
        assert cursor.fetchone() is None
    assert pool.spare_claim() != stale.schema_name


def test_a_stale_template_is_migrated_again_and_re_recorded():
    with connection.cursor() as cursor:
        cursor.execute(f'COMMENT ON SCHEMA "{pool.TEMPLATE_SCHEMA}" IS %s', ["0ld0ld0ld0ld0ld0"])

    rebuilt = pool.template_ensure()

    assert rebuilt is True
    assert pool.recipe_is_current()
    assert SchemaRecipe.objects.get().fingerprint == pool.migration_fingerprint()
