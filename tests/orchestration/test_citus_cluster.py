"""The product on a real Citus cluster with schema-based sharding (ops/scale-out.md), both ways in:
a fresh install on a coordinator with sharding on, and the conversion of a single-server database
by ``citus_setup_sql``.

Runs when ``CITUS_DATABASE_URL`` names a database on a Citus coordinator that has the extension and
its worker nodes added (``citus_add_node``); skipped otherwise. Each fixture makes a database of its
own on the coordinator and on every worker, points this process's connection at it, and drops it
everywhere afterwards: nothing here touches the suite's test database, and nothing is rolled back
(Citus's two-phase commits are part of what is tested)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlparse

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

CITUS_URL = os.environ.get("CITUS_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not CITUS_URL, reason="CITUS_DATABASE_URL is not set: no Citus coordinator to run on (ops/scale-out.md, "
                          "'Trying it on a real cluster', says how to start one)")


# --- The cluster and its throwaway databases ------------------------------------------------------


@dataclass(frozen=True)
class Node:
    host: str
    port: int

    def connect(self, dbname: str):
        url = urlparse(CITUS_URL)
        conn = psycopg2.connect(host=self.host, port=self.port, dbname=dbname, user=url.username or "postgres",
                                password=url.password or None)
        conn.autocommit = True
        return conn


def coordinator() -> Node:
    url = urlparse(CITUS_URL)
    return Node(url.hostname or "127.0.0.1", url.port or 5432)


def admin_database() -> str:
    return urlparse(CITUS_URL).path.lstrip("/") or "postgres"


def workers() -> list[Node]:
    with contextlib.closing(coordinator().connect(admin_database())) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT node_name, node_port FROM citus_get_active_worker_nodes() ORDER BY 1, 2")
        found = [Node(host, port) for host, port in cursor.fetchall()]
    assert found, f"{CITUS_URL}: the coordinator has no worker nodes (citus_add_node)"
    return found


def one(node: Node, dbname: str, statement: str, params=()) -> list[tuple]:
    with contextlib.closing(node.connect(dbname)) as conn, conn.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def database_create(name: str, *, citus_on_coordinator: bool) -> None:
    """The database on every node, the extension on every worker and, for a fresh install, on the
    coordinator with its nodes added (for a conversion, ``citus_enable`` does that later)."""
    for node in [coordinator(), *workers()]:
        one(node, admin_database(), f'CREATE DATABASE "{name}"')
    for node in workers():
        one(node, name, "CREATE EXTENSION citus")
    if citus_on_coordinator:
        citus_enable(name)


def citus_enable(name: str) -> None:
    main = coordinator()
    one(main, name, "CREATE EXTENSION IF NOT EXISTS citus")
    one(main, name, "SELECT citus_set_coordinator_host(%s, %s)", [main.host, main.port])
    for node in workers():
        one(main, name, "SELECT citus_add_node(%s, %s)", [node.host, node.port])
    # As ops/citus/coordinator.conf has it for the whole server; said here so the test stands alone.
    one(main, name, f'ALTER DATABASE "{name}" SET citus.enable_schema_based_sharding = on')


def database_drop(name: str) -> None:
    for node in [coordinator(), *workers()]:
        for attempt in range(40):
            try:
                # A schema move's replication slots outlive it until Citus cleans up.
                one(node, admin_database(), "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                                            "WHERE database = %s AND NOT active", [name])
                one(node, admin_database(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                break
            except psycopg2.errors.ObjectInUse:  # the coordinator's connections to it are still closing
                if attempt == 39:
                    raise
                time.sleep(0.5)


@contextlib.contextmanager
def django_on(name: str) -> Iterator[None]:
    """This process's default connection on the cluster's database ``name``, then back."""
    from django.contrib.contenttypes.models import ContentType

    from orchestration import pool

    saved = dict(connection.settings_dict)
    main = coordinator()
    url = urlparse(CITUS_URL)
    connection.close()
    connection.settings_dict.update(NAME=name, HOST=main.host, PORT=str(main.port), USER=url.username or "postgres",
                                    PASSWORD=url.password or "")
    ContentType.objects.clear_cache()
    pool._scripts.clear()
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
        ContentType.objects.clear_cache()
        pool._scripts.clear()


@dataclass
class Cluster:
    database: str
    seeded: list  # ops.demo.SeededSchool
    # The same measures on the same PostgreSQL before the conversion, when there was no Citus in it.
    one_server: dict | None = None

    @property
    def converted(self) -> bool:
        return self.one_server is not None


SIGN_UPS = 5
PAGES = ("/", "/pupils/", "/groups/{group}/marksheet/?aspect={aspect}")


def sign_ups_ms() -> list[float]:
    """SIGN_UPS sign-ups from the pool after one to warm up; their times in ms."""
    from orchestration import pool
    from orchestration.provisioning import school_provision

    pool.pool_top_up(size=SIGN_UPS + 1)
    tag = uuid.uuid4().hex[:6]
    times = []
    for i in range(SIGN_UPS + 1):
        done = school_provision(name=f"Pooled {i}", subdomain=f"pool{i}-{tag}", admin_email=f"head{i}@pool.example")
        assert done.from_pool
        times.append(done.seconds * 1000)
    return times[1:]


def pages_ms(seeded, rounds: int = 5) -> list[float]:
    """A teacher's home page, pupil list and marksheet, ``rounds`` times each after one to warm up."""
    from tenants.assessment.models import Aspect
    from tenants.pupils.models import Group
    from tenants.users.models import User

    with schema_context(seeded.school.schema_name):
        teacher = User.objects.get(email=seeded.demo.teacher_email)
        group = Group.objects.filter(staff=teacher).order_by("pk").first()
        aspect = Aspect.objects.filter(is_headline=True).order_by("pk").first()
    client = cluster_school_client(seeded, seeded.demo.teacher_email)
    times = []
    for round_ in range(rounds + 1):
        for path in PAGES:
            started = time.perf_counter()
            response = client.get(path.format(group=group.pk, aspect=aspect.pk))
            if round_:
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, path
    connection.set_schema_to_public()
    return times


def _install(*, convert: bool, django_db_blocker) -> Iterator[Cluster]:
    from ops.demo import demo_seed
    from orchestration import pool

    name = f"pt_citus_{'conv' if convert else 'fresh'}_{uuid.uuid4().hex[:8]}"
    database_create(name, citus_on_coordinator=not convert)
    try:
        with django_db_blocker.unblock(), django_on(name):
            call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
            if not convert:
                cluster_convert(name)  # a fresh install runs the same setup (public's tables) before any school
            pool.pool_top_up(size=2)
            seeded = demo_seed()
            pool.pool_top_up(size=2)
            one_server = None
            if convert:
                one_server = {"sign_up_ms": sign_ups_ms(), "pages_ms": pages_ms(seeded[0])}
                pool.pool_top_up(size=2)
                citus_enable(name)
                connection.close()  # the database's new setting applies to new sessions
                cluster_convert(name)
            yield Cluster(database=name, seeded=seeded, one_server=one_server)
    finally:
        database_drop(name)


def cluster_convert(name: str) -> list[str]:
    """Print the conversion from the live database, then run it the way psql -f would."""
    import io

    out = io.StringIO()
    call_command("citus_setup_sql", stdout=out)
    statements = [line for line in out.getvalue().splitlines() if line.strip()]
    with contextlib.closing(coordinator().connect(name)) as conn, conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return statements


@pytest.fixture(scope="module")
def fresh(django_db_blocker) -> Iterator[Cluster]:
    yield from _install(convert=False, django_db_blocker=django_db_blocker)


@pytest.fixture(scope="module")
def converted(django_db_blocker) -> Iterator[Cluster]:
    yield from _install(convert=True, django_db_blocker=django_db_blocker)


@pytest.fixture(params=["fresh", "converted"])
def cluster(request, django_db_blocker) -> Iterator[Cluster]:
    """Each test below runs on both ways in."""
    installed = request.getfixturevalue(request.param)
    with django_db_blocker.unblock(), django_on(installed.database):
        yield installed


# --- What the cluster holds -----------------------------------------------------------------------


def rows(statement: str, params=()) -> list[tuple]:
    connection.set_schema_to_public()  # a request leaves the connection in its school
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def school_like_schemas() -> set[str]:
    from orchestration.pool import TEMPLATE_SCHEMA
    from shared.schools.models import School, SpareSchema

    return (set(School.objects.filter(schema_dropped_at=None).values_list("schema_name", flat=True))
            | set(SpareSchema.objects.values_list("schema_name", flat=True)) | {TEMPLATE_SCHEMA})


def distributed_schemas() -> set[str]:
    return {name for (name,) in rows("SELECT schema_name::text FROM citus_schemas")}


def worker_ports() -> set[int]:
    return {node.port for node in workers()}


def test_every_school_schema_spare_and_the_template_is_distributed_whole_on_a_worker(cluster):
    schemas = school_like_schemas()
    assert len(schemas) >= 5, (schemas, rows("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'school%%'"))
    assert schemas <= distributed_schemas()
    # Every table of those schemas is a single-shard table placed on a worker, and the schema is
    # not left with a plain table behind.
    placed = rows("""
        SELECT n.nspname, c.relname, s.nodeport FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN citus_shards s ON s.table_name = c.oid
        WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p') AND NOT c.relispartition""", [sorted(schemas)])
    assert [p for p in placed if p[2] not in worker_ports()] == []
    # ... with no copy of its rows left on the coordinator's disk.
    assert rows("""SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = ANY(%s) AND c.relkind = 'r' AND pg_relation_size(c.oid) > 0""", [sorted(schemas)]) == []


def test_every_public_table_is_a_reference_or_coordinator_table_by_name(cluster):
    from orchestration.scale_out import REFERENCE_TABLES

    kinds = dict(rows("""
        SELECT c.relname, coalesce(t.citus_table_type, 'plain') FROM pg_class c
        LEFT JOIN citus_tables t ON t.table_name = c.oid
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition"""))
    assert {table for table, kind in kinds.items() if kind == "reference"} == set(REFERENCE_TABLES)
    # Each named, none left to Citus's automatic conversion, no local copy of a reference table left.
    assert {kind for table, kind in kinds.items() if table not in REFERENCE_TABLES} == {"local"}
    assert rows("SELECT logicalrelid::text FROM pg_dist_partition WHERE autoconverted") == []
    assert rows("""SELECT table_name::text FROM citus_tables WHERE citus_table_type = 'reference'
                   AND pg_relation_size(table_name) > 0""") == []


def test_every_identity_sequence_is_above_its_tables_largest_id(cluster):
    behind = []
    for schema, table, column, sequence in rows("""
            SELECT t.relnamespace::regnamespace::text, t.relname, a.attname, format('%%I.%%I', s.relnamespace::regnamespace, s.relname)
            FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
            JOIN pg_class t ON t.oid = d.refobjid JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
            WHERE d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND NOT t.relispartition
              AND t.relnamespace::regnamespace::text = ANY(%s)""", [sorted(school_like_schemas() | {"public"})]):
        [(largest,)] = rows(f'SELECT max("{column}") FROM "{schema}"."{table}"')
        [(last, called)] = rows(f"SELECT last_value, is_called FROM {sequence}")
        following = last + 1 if called else last
        if largest is not None and following <= largest:
            behind.append((schema, table, largest, following))
    assert behind == []


# --- The product on it ------------------------------------------------------------------------------


def cluster_school_client(seeded, email: str):
    from ops.demo import DEMO_PASSWORD
    from tests.helpers import school_client

    return school_client(seeded, email, DEMO_PASSWORD)


def test_sign_up_from_the_pool_and_with_the_pool_empty_lands_on_a_worker(cluster):
    from orchestration import pool
    from orchestration.provisioning import school_provision
    from shared.schools.models import SpareSchema

    pooled = sign_ups_ms()
    assert SpareSchema.objects.count() == 0
    empty = school_provision(name="Built", subdomain=f"built-{uuid.uuid4().hex[:6]}", admin_email="head@built.example")
    assert not empty.from_pool
    assert school_like_schemas() <= distributed_schemas()
    line = (f"\n[citus] {cluster.database}: sign-up from the pool, median of {SIGN_UPS}: {statistics.median(pooled):.1f} ms "
            f"({', '.join(f'{ms:.1f}' for ms in pooled)})")
    if cluster.converted:
        line += f"; the same database on one server before the conversion: {statistics.median(cluster.one_server['sign_up_ms']):.1f} ms"
    print(line + f"; with the pool empty (a replay and a distribution): {empty.seconds * 1000:.1f} ms")
    assert statistics.median(pooled) < 150
    pool.pool_top_up(size=2)
    assert school_like_schemas() <= distributed_schemas()


def school_node(schema: str) -> int:
    ports = rows("SELECT DISTINCT s.nodeport FROM citus_shards s JOIN pg_class c ON c.oid = s.table_name "
                 "WHERE s.citus_table_type = 'schema' AND c.relnamespace = %s::regnamespace", [schema])
    assert len(ports) == 1, ports  # the whole school on one node
    return ports[0][0]


def test_a_school_page_and_a_marksheet_save_run_on_the_schools_worker(cluster):
    from shared import clock
    from tenants.assessment.models import Aspect, Grade, Result
    from tenants.pupils.models import Group
    from tenants.users.models import User

    oak = cluster.seeded[0]
    schema = oak.school.schema_name
    with schema_context(schema):
        teacher = User.objects.get(email=oak.demo.teacher_email)
        group = Group.objects.filter(staff=teacher).order_by("pk").first()
        aspect = Aspect.objects.filter(is_headline=True).order_by("pk").first()
        pupils = list(group.pupils.all())
        grades = list(Grade.objects.filter(grade_set=aspect.grade_set))
    timings = pages_ms(oak)
    client = cluster_school_client(oak, oak.demo.teacher_email)
    node = school_node(schema)
    assert node in worker_ports()
    day = (clock.today() - dt.timedelta(days=3)).isoformat()
    data = {"aspect": aspect.pk, "date": day, **{f"pupil-{p.pk}": grades[i % len(grades)].pk for i, p in enumerate(pupils)}}
    started = time.perf_counter()
    response = client.post(f"/groups/{group.pk}/marksheet/", data)
    save_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 302
    with schema_context(schema):
        saved = dict(Result.objects.filter(aspect=aspect, recorded_on=day).values_list("pupil_id", "grade_id"))
    assert saved == {p.pk: grades[i % len(grades)].pk for i, p in enumerate(pupils)}
    line = (f"\n[citus] {cluster.database}: a teacher's pages, median of {len(timings)}: {statistics.median(timings):.1f} ms "
            f"(max {max(timings):.1f}) with the school on :{node}")
    if cluster.converted:
        line += (f"; the same pages on one server before the conversion: "
                 f"{statistics.median(cluster.one_server['pages_ms']):.1f} ms (max {max(cluster.one_server['pages_ms']):.1f})")
    print(line + f"; a marksheet save of {len(pupils)} results (two-phase commit): {save_ms:.1f} ms")


def test_retention_drops_a_cancelled_school_on_its_node_and_everywhere(cluster):
    from orchestration.provisioning import client_onboard
    from orchestration.retention.run import retention_run
    from shared.changes import Actor
    from shared.clients.selectors import current_contract
    from shared.clients.services import contract_cancel, schools_close_on_cancellation
    from shared.operators.models import Operator
    from shared.schools.models import Domain, School

    actor = Actor.operator(Operator.objects.get(role=Operator.Role.ADMINISTRATOR).user)
    tag = uuid.uuid4().hex[:6]
    school = client_onboard(actor=actor, name="Closing School", subdomain=f"closing-{tag}",
                            admin_email="head@closing.example", contract_starts_on=dt.date(2025, 9, 1)).school
    schema = school.schema_name
    node = school_node(schema)
    contract_cancel(actor=actor, contract=current_contract(school), cancelled_on=dt.date(2026, 12, 31))
    schools_close_on_cancellation(today=dt.date(2026, 12, 31))

    retention_run(as_of=dt.date(2027, 6, 30))

    assert School.objects.get(pk=school.pk).schema_dropped_at is not None
    assert not Domain.objects.filter(tenant_id=school.pk).exists()
    assert schema not in distributed_schemas()
    assert rows("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]) == []
    worker = next(w for w in workers() if w.port == node)
    assert one(worker, cluster.database, "SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]) == []
    # The others are untouched.
    for seeded in cluster.seeded:
        assert seeded.school.schema_name in distributed_schemas()


def test_restore_school_puts_the_backup_back_as_a_distributed_schema(cluster, tmp_path):
    from orchestration.backup import backup_write
    from orchestration.restore import backup_restore
    from shared.schools.models import School
    from tenants.pupils.models import Pupil

    oak = cluster.seeded[1]
    school = School.objects.get(pk=oak.school.pk)
    with schema_context(school.schema_name):
        before = sorted(Pupil.objects.values_list("pk", "surname"))
    written = backup_write(school=school, out_dir=tmp_path)
    with schema_context(school.schema_name):
        Pupil.objects.filter(pk=before[0][0]).update(surname="Changed after the backup")

    restored = backup_restore(path=written.path, school=school)

    assert restored.schema == school.schema_name
    assert school.schema_name in distributed_schemas()
    assert school_node(school.schema_name) in worker_ports()
    with schema_context(school.schema_name):
        assert sorted(Pupil.objects.values_list("pk", "surname")) == before
        Pupil.objects.create(forename="After", surname="Restore")  # its sequences carried on


def test_migrate_fleet_runs_a_real_migration_on_every_node(cluster):
    from ops.migration_probe import extra_migration
    from orchestration import fleet, pool
    from shared.schools.models import School

    with extra_migration("CREATE TABLE fleet_probe (id bigint generated by default as identity primary key)"):
        fingerprint = pool.migration_fingerprint()
        run = fleet.fleet_migrate(processes=0)

    assert run.ok, [(r.schema_name, r.error) for r in run.failed]
    assert run.template_rebuilt
    for school in School.objects.filter(schema_dropped_at=None):
        assert school.migration_fingerprint == fingerprint
        assert rows("SELECT citus_table_type FROM citus_tables WHERE table_name = %s::regclass",
                    [f"{school.schema_name}.fleet_probe"]) == [("schema",)]
    assert school_like_schemas() <= distributed_schemas()
    # Back to the code's own state (template and spares) for the tests after this one.
    assert fleet.fleet_migrate(processes=0).ok


def test_a_school_moves_to_another_node_under_load_with_no_error_and_no_other_schools_data(cluster):
    from django.db import connections

    moving, other = cluster.seeded
    schema = moving.school.schema_name
    source = school_node(schema)
    target = next(w for w in workers() if w.port != source)
    loaders = [(seeded.demo.subdomain, cluster_school_client(seeded, seeded.demo.teacher_email))
               for seeded in cluster.seeded for _ in range(2)]
    names = {seeded.demo.subdomain: seeded.demo.name.encode() for seeded in cluster.seeded}
    errors, crossed, served = [], [], [0]
    stop = threading.Event()
    settings_dict = dict(connection.settings_dict)

    def load(subdomain: str, client) -> None:
        # A thread has a connection of its own; point it at the cluster's database too.
        connections["default"].settings_dict.update(settings_dict)
        others = [name for key, name in names.items() if key != subdomain]
        try:
            while not stop.is_set() and served[0] < 2000:
                response = client.get("/pupils/")
                served[0] += 1
                if response.status_code != 200:
                    errors.append((subdomain, response.status_code))
                elif names[subdomain] not in response.content or any(name in response.content for name in others):
                    crossed.append(subdomain)
        except Exception as error:  # noqa: BLE001  (counted, the test fails on it)
            errors.append((subdomain, repr(error)))
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=load, args=each) for each in loaders]
    for thread in threads:
        thread.start()
    time.sleep(1)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT citus_schema_move(%s::regnamespace, %s, %s)", [schema, target.host, target.port])
    move_s = time.perf_counter() - started
    time.sleep(1)
    stop.set()
    for thread in threads:
        thread.join()

    assert school_node(schema) == target.port
    assert (errors, crossed) == ([], [])
    print(f"\n[citus] {cluster.database}: citus_schema_move of {schema} :{source} -> :{target.port} took {move_s:.2f} s "
          f"while {served[0]} pages were served to two schools, 0 errors, 0 cross-school responses")
