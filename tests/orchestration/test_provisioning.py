"""Provisioning: what it creates, what it refuses, and that a failure half-way leaves nothing."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_context

from orchestration import pool
from orchestration import provisioning as services
from orchestration.provisioning import ProvisioningFailed, ProvisioningRefused, school_provision
from shared.schools.models import Domain, School, SpareSchema
from tenants.users.models import User

pytestmark = pytest.mark.django_db


def schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'school_%%'")
        return {row[0] for row in cursor.fetchall()}


def tables_in(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def state() -> dict:
    """Everything provisioning may create, to compare before and after a refusal."""
    return {
        "schools": list(School.objects.values_list("id", "schema_name")),
        "domains": list(Domain.objects.values_list("domain", flat=True)),
        "spares": list(SpareSchema.objects.values_list("schema_name", flat=True)),
        "schemas": schemas(),
    }


def tenant_model_tables() -> set[str]:
    tables = set()
    for app_name in settings.TENANT_APPS:
        config = next(c for c in apps.get_app_configs() if c.name == app_name)
        for model in config.get_models(include_auto_created=True):
            tables.add(model._meta.db_table)
    return tables


def test_provisioning_creates_every_tenant_table_in_a_new_schema():
    result = school_provision(name="Elm Tree Infants", subdomain="elmtree", admin_email="head@elmtree.example")

    schema = result.school.schema_name
    assert schema.startswith("school_") and "elmtree" not in schema
    assert tables_in(schema) == tenant_model_tables() | {"django_migrations"}
    tenant_labels = {c.label for c in apps.get_app_configs() if c.name in settings.TENANT_APPS}
    graph_nodes = {n for n in MigrationLoader(None).graph.nodes if n[0] in tenant_labels}
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        applied = set(cursor.fetchall())
    assert graph_nodes <= applied


def test_provisioning_creates_school_domain_and_first_admin():
    result = school_provision(name="  Elm Tree   Infants ", subdomain="ElmTree", admin_email="Head@ElmTree.example")

    school = School.objects.get(pk=result.school.pk)
    assert school.name == "Elm Tree Infants"
    assert school.status == School.Status.ACTIVE
    assert list(school.domains.values_list("domain", "is_primary")) == [(f"elmtree.{settings.BASE_DOMAIN}", True)]
    with schema_context(school.schema_name):
        admin = User.objects.get()
        assert (admin.email, admin.role, admin.has_usable_password()) == (
            "head@elmtree.example", User.Role.SCHOOL_ADMIN, False)
    assert result.set_password_url.startswith(f"http://elmtree.{settings.BASE_DOMAIN}:8000/accounts/set-password/")


def test_provisioning_claims_a_spare_from_the_pool():
    spares_before = pool.spare_count()
    assert spares_before > 0
    oldest_spare = SpareSchema.objects.order_by("id").first().schema_name

    result = school_provision(name="Elm Tree Infants", subdomain="elmtree", admin_email="head@elmtree.example")

    assert result.from_pool is True
    assert result.school.schema_name == oldest_spare
    assert pool.spare_count() == spares_before - 1


def test_provisioning_builds_a_schema_when_the_pool_is_empty():
    SpareSchema.objects.all().delete()

    result = school_provision(name="Elm Tree Infants", subdomain="elmtree", admin_email="head@elmtree.example")

    assert result.from_pool is False
    assert tables_in(result.school.schema_name) == tenant_model_tables() | {"django_migrations"}


def test_sign_up_asks_the_worker_to_refill_the_pool(django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    from orchestration import tasks

    monkeypatch.setattr(tasks.pool_top_up, "send", lambda *a, **k: sent.append(a))
    with django_capture_on_commit_callbacks(execute=True):
        school_provision(name="Elm Tree Infants", subdomain="elmtree", admin_email="head@elmtree.example")

    assert sent == [()]


@pytest.mark.parametrize(
    ("subdomain", "message"),
    [
        ("www", "the subdomain 'www' is reserved"),
        ("console", "the subdomain 'console' is reserved"),
        ("admin", "the subdomain 'admin' is reserved"),
        ("api", "the subdomain 'api' is reserved"),
        ("public", "the subdomain 'public' is reserved"),
        ("static", "the subdomain 'static' is reserved"),
        ("pg_catalog", "the subdomain 'pg_catalog' is reserved"),
        ("PG_Anything", "the subdomain 'pg_anything' is reserved"),
        ("", "the subdomain is empty"),
        ("   ", "the subdomain is empty"),
        ("oak_field", "the subdomain 'oak_field' is not a DNS label"),
        ("oak field", "the subdomain 'oak field' is not a DNS label"),
        ("-oakfield", "the subdomain '-oakfield' is not a DNS label"),
        ("oakfield-", "the subdomain 'oakfield-' is not a DNS label"),
        ("oak.field", "the subdomain 'oak.field' is not a DNS label"),
        ("a" * 64, f"the subdomain '{'a' * 64}' is not a DNS label"),
        ("oakfield", "the subdomain 'oakfield' is already taken"),
        ("OakField", "the subdomain 'oakfield' is already taken"),
        ("RIVERSIDE", "the subdomain 'riverside' is already taken"),
    ],
)
def test_refused_subdomains_create_nothing(oakfield, riverside, subdomain, message):
    before = state()

    with pytest.raises(ProvisioningRefused) as refusal:
        school_provision(name="Another School", subdomain=subdomain, admin_email="head@another.example")

    assert str(refusal.value).startswith(message)
    assert "\n" not in str(refusal.value)
    assert state() == before


@pytest.mark.parametrize(
    ("name", "email", "message"),
    [
        ("", "head@x.example", "the school's name is empty"),
        ("x" * 201, "head@x.example", "the school's name is longer than 200 characters"),
        ("Elm Tree", "not-an-email", "'not-an-email' is not an email address"),
        ("Elm Tree", "", "'' is not an email address"),
    ],
)
def test_refused_names_and_emails_create_nothing(name, email, message):
    before = state()

    with pytest.raises(ProvisioningRefused, match=message):
        school_provision(name=name, subdomain="elmtree", admin_email=email)

    assert state() == before


def fail(*args, **kwargs):
    raise RuntimeError("injected failure")


def test_failure_mid_provisioning_leaves_no_school_schema_or_domain(monkeypatch):
    before = state()
    monkeypatch.setattr(services, "user_create", fail)

    with pytest.raises(RuntimeError, match="injected failure"):
        school_provision(name="Elm Tree Infants", subdomain="elmtree", admin_email="head@elmtree.example")

    # The claimed spare is back in the pool, untouched; nothing else exists.
    assert state() == before
    assert not Domain.objects.filter(domain__startswith="elmtree.").exists()


def test_failure_while_building_a_schema_leaves_no_schema(monkeypatch):
    SpareSchema.objects.all().delete()
    before = state()
    monkeypatch.setattr(services, "user_create", fail)

    with pytest.raises(RuntimeError, match="injected failure"):
        school_provision(name="Elm Tree Infants", subdomain="elmtree", admin_email="head@elmtree.example")

    assert state() == before


def test_an_unexpected_integrity_error_is_reported_as_what_it_is_and_creates_nothing():
    """A sequence behind its table's ids (what a Citus conversion left before citus_setup_sql restored
    them) is a fault, not a taken subdomain."""
    before = state()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('schools_school', 'id')")
        (sequence,) = cursor.fetchone()
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
        position = cursor.fetchone()
        cursor.execute("SELECT setval(%s, (SELECT min(id) FROM schools_school), false)", [sequence])
    try:
        with pytest.raises(ProvisioningFailed) as failure:
            school_provision(name="Elm Tree Infants", subdomain="elmtree", admin_email="head@elmtree.example")
    finally:
        with connection.cursor() as cursor:  # sequences are not rolled back with the test
            cursor.execute("SELECT setval(%s, %s, %s)", [sequence, *position])

    assert str(failure.value) == ("sign-up failed on an unexpected integrity error (table schools_school, "
                                  "constraint schools_school_pkey); nothing was created")
    assert state() == before


def test_command_prints_the_site_and_a_set_password_link(capsys):
    call_command("provision_school", name="Elm Tree Infants", subdomain="elmtree", admin_email="head@elmtree.example")

    out = capsys.readouterr().out
    assert "Provisioned Elm Tree Infants" in out
    assert f"site:    http://elmtree.{settings.BASE_DOMAIN}:8000/" in out
    assert "set password (shown once, valid 7 days): http://elmtree." in out


def test_command_refusal_is_one_line_and_creates_nothing(oakfield):
    before = state()

    with pytest.raises(CommandError) as error:
        call_command("provision_school", name="Dup", subdomain="Oakfield", admin_email="head@dup.example")

    assert str(error.value) == "not provisioned: the subdomain 'oakfield' is already taken"
    assert state() == before
