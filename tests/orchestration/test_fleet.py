"""Fleet migrations, in this process (``processes=0``) and inside the test's transaction: every
schema change here is rolled back with the test, so the seeded schools come out as they went in.

The schools are made "behind" by a temporary extra migration of a school app (ops.migration_probe),
written outside the checkout; each probe has a fingerprint of its own."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from ops.migration_probe import extra_migration
from orchestration import fleet, pool
from shared.schools.models import School, SpareSchema
from tests.helpers import committed, console_client, host_client

pytestmark = pytest.mark.django_db


def every_schema() -> set[str]:
    return ({pool.TEMPLATE_SCHEMA} | set(School.objects.values_list("schema_name", flat=True))
            | set(SpareSchema.objects.values_list("schema_name", flat=True)))


def tables(schema: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", [schema])
        return [row[0] for row in cursor.fetchall()]


def applied(schema: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations ORDER BY id')
        return cursor.fetchall()


def school_row(seeded) -> School:
    return School.objects.get(pk=seeded.school.pk)


def refuse_here(schema: str) -> str:
    """SQL that fails in ``schema`` only (the template and every other school accept it)."""
    return f"DO $$ BEGIN IF current_schema() = '{schema}' THEN RAISE EXCEPTION 'refused for the test'; END IF; END $$"


def test_with_nothing_to_do_no_school_schema_is_opened():
    schemas = every_schema() - {pool.TEMPLATE_SCHEMA}  # the template's fingerprint is read from the catalog
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(f"{sql} {params}")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run = fleet.fleet_migrate(processes=0)

    assert (run.behind, run.results, run.template_rebuilt, run.spares_replaced) == (0, [], False, 0)
    assert run.skipped == run.schools == School.objects.filter(schema_dropped_at__isnull=True).count() >= 2
    assert [s for s in statements if any(schema in s for schema in schemas)] == []
    assert {s.replace('"', "") for s in statements if s.startswith("SET search_path")} <= {"SET search_path = public None"}
    assert len(statements) < 20, statements


def test_schools_behind_are_migrated_and_their_fingerprint_set_with_the_template_and_spares(oakfield, riverside):
    spares_before = SpareSchema.objects.count()

    with extra_migration("CREATE TABLE fleet_probe (id bigint)") as probe:
        fingerprint = pool.migration_fingerprint()
        run = fleet.fleet_migrate(processes=0)

    assert fingerprint != pool.migration_fingerprint()  # the probe is gone again
    assert run.ok and run.template_rebuilt and run.spares_replaced == spares_before
    assert {r.schema_name for r in run.migrated} == set(School.objects.values_list("schema_name", flat=True))
    assert {r.applied for r in run.migrated} == {1}
    for seeded in (oakfield, riverside):
        school = school_row(seeded)
        assert (school.migration_fingerprint, school.migration_state, school.migration_error) == (fingerprint, "ok", "")
        assert "fleet_probe" in tables(school.schema_name)
        assert applied(school.schema_name)[-1] == ("pupils", probe.migration_name)
    assert "fleet_probe" in tables(pool.TEMPLATE_SCHEMA)
    assert set(SpareSchema.objects.values_list("fingerprint", flat=True)) == {fingerprint}
    for spare in SpareSchema.objects.all():
        assert "fleet_probe" in tables(spare.schema_name)


def test_a_failing_migration_leaves_its_school_unchanged_on_the_maintenance_page_while_the_others_migrate(oakfield, riverside):
    oak = oakfield.school.schema_name
    before = (tables(oak), applied(oak), school_row(oakfield).migration_fingerprint)

    with extra_migration(f"CREATE TABLE fleet_probe (id bigint); {refuse_here(oak)}") as probe:
        fingerprint = pool.migration_fingerprint()
        run = fleet.fleet_migrate(processes=0)

    school = school_row(oakfield)
    assert [r.schema_name for r in run.failed] == [oak]
    assert school.migration_error == run.failed[0].error == (
        f"pupils.{probe.migration_name}: InternalError: refused for the test")
    assert school.migration_state == School.MigrationState.FAILED
    assert (tables(oak), applied(oak), school.migration_fingerprint) == before  # rolled back whole
    assert riverside.school.schema_name in {r.schema_name for r in run.migrated}
    assert school_row(riverside).migration_fingerprint == fingerprint
    assert "fleet_probe" in tables(riverside.school.schema_name)

    page = host_client(oakfield.hostname).get("/accounts/login/")
    assert page.status_code == 503 and page["Retry-After"] == "30" and b"Back in a moment" in page.content
    assert host_client(riverside.hostname).get("/accounts/login/").status_code == 200
    connection.set_schema_to_public()  # the request left the connection in riverside's schema
    dashboard = console_client("support").get("/console/").content.decode()
    assert "Schools whose migration failed" in dashboard and "refused for the test" in dashboard


def test_a_busy_school_gives_up_after_the_lock_timeout_is_reported_and_migrates_on_rerun(oakfield, riverside, monkeypatch):
    monkeypatch.setattr(fleet, "RETRY_PAUSES", (0.01,))
    river = riverside.school.schema_name
    with extra_migration("ALTER TABLE pupils_pupil ADD COLUMN fleet_probe integer"):
        fingerprint = pool.migration_fingerprint()
        with committed(river) as other:  # a long request of riverside's, reading pupils
            other.execute("BEGIN")
            other.execute("LOCK TABLE pupils_pupil IN ACCESS SHARE MODE")
            busy = fleet.fleet_migrate(processes=0, lock_timeout=0.2, attempts=2)
            other.execute("ROLLBACK")
        rerun = fleet.fleet_migrate(processes=0)

    assert [r.schema_name for r in busy.failed] == [river]
    assert busy.failed[0].error.startswith("busy after 2 attempts (0.2 s lock timeout each): ")
    assert oakfield.school.schema_name in {r.schema_name for r in busy.migrated}
    assert [r.schema_name for r in rerun.migrated] == [river] and rerun.ok
    assert (school_row(riverside).migration_fingerprint, school_row(riverside).migration_state) == (fingerprint, "ok")


def test_a_school_being_migrated_shows_the_maintenance_page_and_the_console_says_so(oakfield):
    School.objects.filter(pk=oakfield.school.pk).update(migration_state=School.MigrationState.MIGRATING)

    page = host_client(oakfield.hostname).get("/")
    client_page = console_client("support").get(f"/console/clients/{oakfield.school.pk}/").content.decode()

    assert page.status_code == 503 and page["Retry-After"] == "30"
    assert "Migrating: the site shows the maintenance page" in client_page


def test_a_school_left_failed_by_a_deploy_that_was_rolled_back_is_opened_and_its_site_reopens(oakfield):
    School.objects.filter(pk=oakfield.school.pk).update(migration_state=School.MigrationState.FAILED,
                                                        migration_error="pupils.9000_gone: InternalError: refused")

    run = fleet.fleet_migrate(processes=0)

    school = school_row(oakfield)
    assert [(r.schema_name, r.applied) for r in run.results] == [(oakfield.school.schema_name, 0)]
    assert (school.migration_state, school.migration_error) == ("ok", "")
    assert host_client(oakfield.hostname).get("/accounts/login/").status_code == 200


def test_refused_input_changes_nothing():
    template_before = tables(pool.TEMPLATE_SCHEMA)

    with pytest.raises(fleet.FleetMigrationRefused, match="processes"):
        fleet.fleet_migrate(processes=-1)
    with pytest.raises(fleet.FleetMigrationRefused, match="caller's transaction"):
        fleet.fleet_migrate(processes=2)  # the test runs in a transaction
    with extra_migration("CREATE TABLE fleet_probe (id bigint)"):
        with pytest.raises(fleet.FleetMigrationRefused, match="lock timeout"):
            fleet.fleet_migrate(processes=0, lock_timeout=0)

    assert tables(pool.TEMPLATE_SCHEMA) == template_before
    assert set(School.objects.values_list("migration_state", flat=True)) == {"ok"}


def test_the_command_prints_a_summary():
    out = io.StringIO()

    call_command("migrate_fleet", processes=0, stdout=out)

    schools = School.objects.filter(schema_dropped_at__isnull=True).count()
    assert "template: current; spare pool: current" in out.getvalue()
    assert f"{schools} schools: {schools} already current (skipped), 0 migrated, 0 failed, 0 not run" in out.getvalue()
