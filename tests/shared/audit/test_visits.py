"""The visit log: every request queued cheaply, flushed into monthly partitions, and the school's
"last used" date kept from it; the change log never holds values."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from shared import clock
from shared.audit import services
from shared.audit.models import ChangeLogEntry
from shared.clients import last_use
from shared.clients.selectors import current_contract
from shared.deadletter import deadletter_key
from shared.redis_client import redis_client
from tenants.users.models import User
from tests.helpers import host_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_buffer():
    keys = (services.visit_buffer_key(), deadletter_key(services.VISIT_BUFFER))
    redis_client().delete(*keys)
    yield
    redis_client().delete(*keys)


def raw_visit(path: str = "/", *, ip: str | None = "192.0.2.1", status: int = 200, user_id: int | None = None,
              schema_name: str = "public", occurred_at: dt.datetime | None = None) -> str:
    """A buffered visit exactly as ``visit_push`` queued it before it cleaned anything: what a
    buffer still holds when the cleaning is deployed, or what another writer may push."""
    occurred_at = occurred_at or clock.now()
    return json.dumps([occurred_at.isoformat(), "oakfield.localhost", path, "GET", status, ip, user_id, schema_name])


def set_aside() -> list[dict]:
    return [json.loads(raw) for raw in redis_client().lrange(deadletter_key(services.VISIT_BUFFER), 0, -1)]


def partition_rows(month: dt.date) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT host, path, method, status, host(ip), user_id, schema_name '
                       f'FROM public."{services.visit_partition_name(month)}" ORDER BY occurred_at')
        return cursor.fetchall()


def test_a_school_visit_lands_in_the_current_months_partition_with_ip_and_user_id(oakfield, password):
    client = host_client(oakfield.hostname, REMOTE_ADDR="203.0.113.7")
    client.post("/accounts/login/", {"username": oakfield.demo.teacher_email, "password": password})
    client.get("/")
    with schema_context(oakfield.school.schema_name):
        teacher_id = User.objects.get(email=oakfield.demo.teacher_email).pk

    stored = last_use.visits_flush()

    rows = partition_rows(clock.now().date().replace(day=1))
    assert stored == 2
    assert rows[-1] == (oakfield.hostname, "/", "GET", 200, "203.0.113.7", teacher_id, oakfield.school.schema_name)
    assert rows[-2][:4] == (oakfield.hostname, "/accounts/login/", "POST", 302)
    assert redis_client().llen(services.visit_buffer_key()) == 0


def test_console_visits_are_logged_too():
    host_client(settings.BASE_DOMAIN, REMOTE_ADDR="198.51.100.2").get("/console/login/")

    last_use.visits_flush()

    rows = partition_rows(clock.now().date().replace(day=1))
    assert rows[-1] == (settings.BASE_DOMAIN, "/console/login/", "GET", 200, "198.51.100.2", None, "public")


def test_set_password_tokens_never_reach_the_visit_log(oakfield):
    host_client(oakfield.hostname).get("/accounts/set-password/MQ/abc123-secrettoken/")

    last_use.visits_flush()

    path = partition_rows(clock.now().date().replace(day=1))[-1][1]
    assert "secrettoken" not in path and path == "/accounts/set-password/<uidb64>/<token>/"


def test_visits_bring_the_schools_last_used_date_forward_never_back(oakfield):
    contract = current_contract(oakfield.school)
    contract.last_used_on = dt.date(2020, 1, 1)
    contract.save()
    day = dt.datetime(2031, 5, 17, 9, 0, tzinfo=dt.timezone.utc)
    services.visit_push(occurred_at=day, host=oakfield.hostname, path="/", method="GET", status=200,
                        ip="192.0.2.1", user_id=1, schema_name=oakfield.school.schema_name)
    services.visit_push(occurred_at=day - dt.timedelta(days=400), host=oakfield.hostname, path="/", method="GET",
                        status=200, ip="192.0.2.1", user_id=1, schema_name=oakfield.school.schema_name)

    last_use.visits_flush()

    contract.refresh_from_db()
    assert contract.last_used_on == dt.date(2031, 5, 17)
    assert len(partition_rows(dt.date(2031, 5, 1))) == 1 and len(partition_rows(dt.date(2030, 4, 1))) == 1


def test_anonymous_visits_do_not_count_as_use(riverside):
    contract = current_contract(riverside.school)
    before = contract.last_used_on
    host_client(riverside.hostname).get("/accounts/login/")

    last_use.visits_flush()

    contract.refresh_from_db()
    assert contract.last_used_on == before


def test_partitions_for_coming_months_are_created_ahead():
    created = services.visit_partitions_ensure(months_ahead=2, as_of=dt.date(2040, 12, 15))

    assert created == ["technical_visit_y2040m12", "technical_visit_y2041m01", "technical_visit_y2041m02"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE relname = %s",
                       ["technical_visit_y2041m01"])
        bound = cursor.fetchone()[0]
    assert bound == "FOR VALUES FROM ('2041-01-01 00:00:00+00') TO ('2041-02-01 00:00:00+00')"
    assert services.visit_partitions_ensure(months_ahead=2, as_of=dt.date(2040, 12, 15)) == []


def test_the_scheduled_actor_creates_partitions_ahead_of_the_current_month():
    from shared.audit.tasks import visit_partitions_ensure

    visit_partitions_ensure.fn()

    month = clock.today().replace(day=1)
    with connection.cursor() as cursor:
        for ahead in range(3):
            name = services.visit_partition_name(clock.add_months(month, ahead))
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
            assert cursor.fetchone()[0], name


def test_the_change_log_names_fields_but_never_holds_values(oakfield):
    from shared.changes import Actor
    from shared.clients.services import contact_update
    from shared.operators.models import Operator

    operator = Operator.objects.get(role=Operator.Role.SUPPORT)
    contact = oakfield.school.contacts.first()

    contact_update(actor=Actor.operator(operator.user), contact=contact, phone="07700 900123",
                   email="unique-secret@oakfield.example", role=contact.role)

    entry = ChangeLogEntry.objects.filter(object_type="clients.contact", object_id=str(contact.pk)).first()
    assert (entry.action, entry.actor_kind, entry.actor_id) == ("update", "operator", operator.user_id)
    assert entry.fields == ["email", "phone"]
    dumped = repr(list(ChangeLogEntry.objects.values()))
    assert "07700 900123" not in dumped and "unique-secret" not in dumped


def test_the_flush_keeps_each_partitions_row_count_for_the_partition_drop(oakfield):
    from orchestration.retention.delete import DELETERS
    from shared.audit.models import VisitPartitionRows

    month = dt.date(2032, 3, 1)
    for n in range(7):
        services.visit_push(occurred_at=dt.datetime(2032, 3, 1 + n, tzinfo=dt.timezone.utc), host=oakfield.hostname,
                            path="/", method="GET", status=200, ip=None, user_id=None, schema_name="public")

    last_use.visits_flush()
    counted = VisitPartitionRows.objects.get(partition=services.visit_partition_name(month)).rows
    dropped = DELETERS["visit_partition"](services.visit_partition_name(month), dt.date(2033, 4, 1))

    assert counted == 7 and dropped == 7
    assert not VisitPartitionRows.objects.filter(partition=services.visit_partition_name(month)).exists()


def test_a_nul_request_is_cleaned_at_the_door_and_lands_with_every_other_visit(oakfield):
    client = host_client(oakfield.hostname, REMOTE_ADDR="203.0.113.9")
    client.get("/accounts/login/")
    client.get("/%00")
    client.get("/accounts/login/")

    stored = last_use.visits_flush()

    paths = [row[1] for row in partition_rows(clock.now().date().replace(day=1))[-3:]]
    assert stored == 3
    assert paths == ["/accounts/login/", "/\ufffd", "/accounts/login/"]
    assert redis_client().llen(services.visit_buffer_key()) == 0
    assert set_aside() == []


def test_push_cleans_nul_control_characters_surrogates_and_absurd_lengths():
    services.visit_push(occurred_at=clock.now(), host="oak\x00field.localhost" + "h" * 1000,
                        path="/a\x00b\udcff\n" + "x" * 100_000, method="GE\x00T" * 10, status=70_000,
                        ip="not-an-ip", user_id=-5, schema_name="pub\x00lic" * 20)

    row = json.loads(redis_client().lindex(services.visit_buffer_key(), 0))
    stored = last_use.visits_flush()

    assert len(row[1]) == 253 and row[1].startswith("oak\ufffdfield.localhost")
    assert len(row[2]) == 2000 and row[2].startswith("/a\ufffdb\ufffd\ufffdxxx")
    assert row[3:] == ["GE\ufffdTGE\ufffdTGE", None, None, None, ("pub\ufffdlic" * 20)[:63]]
    assert stored == 1 and set_aside() == []
    assert partition_rows(clock.now().date().replace(day=1))[-1][1] == row[2]


def test_push_keeps_a_valid_ip_address_in_its_canonical_form():
    services.visit_push(occurred_at=clock.now(), host="h", path="/", method="GET", status=200,
                        ip="2001:DB8:0:0::1", user_id=7, schema_name="public")

    row = json.loads(redis_client().lindex(services.visit_buffer_key(), 0))

    assert row[4:] == [200, "2001:db8::1", 7, "public"]


def test_a_nul_visit_already_in_the_buffer_is_set_aside_and_the_others_land(oakfield, riverside):
    contract = current_contract(riverside.school)
    contract.last_used_on = dt.date(2020, 1, 1)
    contract.save()
    today = clock.now()
    buffer = services.visit_buffer_key()
    redis_client().rpush(buffer, raw_visit("/before/"), raw_visit("/\x00"),
                         raw_visit("/after/", user_id=3, schema_name=riverside.school.schema_name))
    month = services.visit_partition_name(today.date().replace(day=1))
    from shared.audit.models import VisitPartitionRows
    counted_before = VisitPartitionRows.objects.filter(partition=month).values_list("rows", flat=True).first() or 0

    stored = last_use.visits_flush()

    contract.refresh_from_db()
    paths = [row[1] for row in partition_rows(today.date().replace(day=1))]
    assert stored == 2
    assert paths[-2:] == ["/before/", "/after/"] and "/\x00" not in paths
    assert redis_client().llen(buffer) == 0
    [entry] = set_aside()
    assert json.loads(entry["item"])[2] == "/\x00"
    assert (entry["error"], entry["pgcode"]) == ("CharacterNotInRepertoire", "22021")
    assert VisitPartitionRows.objects.get(partition=month).rows == counted_before + 2
    assert contract.last_used_on == today.date()
    assert last_use.visits_flush() == 0 and len(set_aside()) == 1


def test_a_failing_batch_is_split_so_only_its_bad_rows_are_set_aside(oakfield):
    from structlog.testing import capture_logs

    buffer = services.visit_buffer_key()
    good = [raw_visit(f"/good/{n}/") for n in range(9)]
    poison = [raw_visit("/bad-ip/", ip="not-an-ip"), raw_visit("/bad-status/", status=70_000), "{not json",
              json.dumps(["2031-01-01"]), json.dumps(["not-a-time", "h", "/no-time/", "GET", 200, None, None, "public"])]
    items = good[:2] + poison[:1] + good[2:5] + poison[1:3] + good[5:8] + poison[3:] + good[8:]
    redis_client().rpush(buffer, *items)

    with capture_logs() as events:
        stored = last_use.visits_flush(batch_size=4)

    paths = [row[1] for row in partition_rows(clock.now().date().replace(day=1))]
    assert stored == 9
    assert paths[-9:] == [f"/good/{n}/" for n in range(9)]
    assert redis_client().llen(buffer) == 0
    assert [entry["item"] for entry in set_aside()] == poison
    assert [(entry["error"], entry.get("pgcode")) for entry in set_aside()] == [
        ("InvalidTextRepresentation", "22P02"), ("NumericValueOutOfRange", "22003"), ("JSONDecodeError", None),
        ("ValueError", None), ("ValueError", None)]
    assert [e["event"] for e in events if e["event"].endswith("set_aside")] == ["visits.item_set_aside"] * 5
    assert not any("not-an-ip" in repr(e) for e in events)


def test_a_database_outage_fails_the_flush_and_leaves_the_buffer_as_it_was(oakfield, monkeypatch):
    from django.db import OperationalError

    buffer = services.visit_buffer_key()
    items = [raw_visit("/one/").encode(), raw_visit("/two/").encode()]
    redis_client().rpush(buffer, *items)

    def down(rows):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "_copy_visits", down)
    with pytest.raises(OperationalError):
        last_use.visits_flush()

    assert redis_client().lrange(buffer, 0, -1) == items
    assert set_aside() == []


def test_set_aside_visits_are_kept_seven_days(monkeypatch):
    start = dt.datetime(2031, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(clock, "now", lambda: start)
    redis_client().rpush(services.visit_buffer_key(), raw_visit("/\x00", occurred_at=start))
    last_use.visits_flush()
    monkeypatch.setattr(clock, "now", lambda: start + dt.timedelta(days=3))
    redis_client().rpush(services.visit_buffer_key(), raw_visit("/\x00", occurred_at=start))
    last_use.visits_flush()

    monkeypatch.setattr(clock, "now", lambda: start + dt.timedelta(days=7, seconds=1))
    last_use.visits_flush()

    assert [entry["set_aside_at"] for entry in set_aside()] == [(start + dt.timedelta(days=3)).isoformat()]
