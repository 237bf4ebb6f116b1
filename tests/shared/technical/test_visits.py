"""The visit log: every request queued cheaply, flushed into monthly partitions, and the school's
"last used" date kept from it; the change log never holds values."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from shared import clock
from shared.clients.selectors import current_contract
from shared.redis_client import redis_client
from shared.technical import services
from shared.technical.models import ChangeLogEntry
from tenants.users.models import User
from tests.helpers import host_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_buffer():
    redis_client().delete(services.visit_buffer_key())
    yield
    redis_client().delete(services.visit_buffer_key())


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

    stored = services.visits_flush()

    rows = partition_rows(clock.now().date().replace(day=1))
    assert stored == 2
    assert rows[-1] == (oakfield.hostname, "/", "GET", 200, "203.0.113.7", teacher_id, oakfield.school.schema_name)
    assert rows[-2][:4] == (oakfield.hostname, "/accounts/login/", "POST", 302)
    assert redis_client().llen(services.visit_buffer_key()) == 0


def test_console_visits_are_logged_too():
    host_client(settings.BASE_DOMAIN, REMOTE_ADDR="198.51.100.2").get("/console/login/")

    services.visits_flush()

    rows = partition_rows(clock.now().date().replace(day=1))
    assert rows[-1] == (settings.BASE_DOMAIN, "/console/login/", "GET", 200, "198.51.100.2", None, "public")


def test_set_password_tokens_never_reach_the_visit_log(oakfield):
    host_client(oakfield.hostname).get("/accounts/set-password/MQ/abc123-secrettoken/")

    services.visits_flush()

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

    services.visits_flush()

    contract.refresh_from_db()
    assert contract.last_used_on == dt.date(2031, 5, 17)
    assert len(partition_rows(dt.date(2031, 5, 1))) == 1 and len(partition_rows(dt.date(2030, 4, 1))) == 1


def test_anonymous_visits_do_not_count_as_use(riverside):
    contract = current_contract(riverside.school)
    before = contract.last_used_on
    host_client(riverside.hostname).get("/accounts/login/")

    services.visits_flush()

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
    from shared.technical.tasks import visit_partitions_ensure

    visit_partitions_ensure.fn()

    month = clock.today().replace(day=1)
    with connection.cursor() as cursor:
        for ahead in range(3):
            name = services.visit_partition_name(clock.add_months(month, ahead))
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
            assert cursor.fetchone()[0], name


def test_the_change_log_names_fields_but_never_holds_values(oakfield):
    from shared.clients.services import contact_update
    from shared.operators.models import Operator
    from shared.technical.services import Actor

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
    from shared.privacy.executor import DELETERS
    from shared.technical.models import VisitPartitionRows

    month = dt.date(2032, 3, 1)
    for n in range(7):
        services.visit_push(occurred_at=dt.datetime(2032, 3, 1 + n, tzinfo=dt.timezone.utc), host=oakfield.hostname,
                            path="/", method="GET", status=200, ip=None, user_id=None, schema_name="public")

    services.visits_flush()
    counted = VisitPartitionRows.objects.get(partition=services.visit_partition_name(month)).rows
    dropped = DELETERS["visit_partition"](services.visit_partition_name(month), dt.date(2033, 4, 1))

    assert counted == 7 and dropped == 7
    assert not VisitPartitionRows.objects.filter(partition=services.visit_partition_name(month)).exists()
