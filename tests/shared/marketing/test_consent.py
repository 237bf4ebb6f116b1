"""Direct marketing by email rests on the prospect's consent: the only list it goes to holds those
whose consent is in force and who never objected; a withdrawal or an objection takes them off from
that moment, and an objection is permanent."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.changes import Actor
from shared.marketing import selectors, services
from shared.marketing.models import Prospect, ProspectConsent
from shared.operators.models import Operator
from tests.helpers import console_client

pytestmark = pytest.mark.django_db
GIVEN = timezone.make_aware(dt.datetime(2026, 11, 2, 10, 0))
WITHDRAWN = timezone.make_aware(dt.datetime(2026, 11, 20, 14, 30, 0))
SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def actor(django_db_setup) -> Actor:
    return Actor.operator(Operator.objects.get(role=Operator.Role.SUPPORT).user)


@pytest.fixture
def ann(actor) -> Prospect:
    return services.prospect_create(actor=actor, full_name="Ann Bell", organisation="Brook School",
                                    email="a.bell@brook.example")


def at(monkeypatch, moment):
    monkeypatch.setattr(clock, "now", lambda: moment)


def on_list(*, as_of=None) -> list[str]:
    return [p.full_name for p in selectors.prospects_for_marketing(as_of=as_of)]


def test_prospects_who_never_consented_are_not_on_the_list(ann):
    assert Prospect.objects.count() >= 3  # the demo's two and Ann
    assert on_list() == []


def test_withdrawal_takes_them_off_from_that_moment(ann, actor, monkeypatch):
    at(monkeypatch, GIVEN)
    services.prospect_consent_give(actor=actor, prospect=ann, how="Ticked the box at the BETT stand")
    at(monkeypatch, WITHDRAWN)
    services.prospect_consent_withdraw(actor=actor, prospect=ann, how="Unsubscribe reply")

    assert on_list(as_of=GIVEN - SECOND) == []
    assert on_list(as_of=WITHDRAWN - SECOND) == ["Ann Bell"]
    assert on_list(as_of=WITHDRAWN + SECOND) == []
    at(monkeypatch, WITHDRAWN + SECOND)
    assert on_list() == []
    assert list(ChangeLogEntry.objects.filter(object_type="marketing.prospectconsent").order_by("id")
                .values_list("action", "fields")) == \
        [("create", ["given_at", "given_how", "prospect", "purpose", "recorded_by_id"]),
         ("update", ["withdrawn_at", "withdrawn_how"])]


def test_giving_consent_is_an_interaction_for_retention(ann, actor, monkeypatch):
    at(monkeypatch, GIVEN)

    services.prospect_consent_give(actor=actor, prospect=ann, how="Event")

    ann.refresh_from_db()
    assert ann.last_interaction_at == GIVEN


def test_an_objection_withdraws_the_consent_at_once_and_for_good(ann, actor, monkeypatch):
    at(monkeypatch, GIVEN)
    services.prospect_consent_give(actor=actor, prospect=ann, how="Event")
    at(monkeypatch, WITHDRAWN)
    services.prospect_object(actor=actor, prospect=ann)
    logged = ChangeLogEntry.objects.count()

    assert ProspectConsent.objects.get(prospect=ann).withdrawn_at == WITHDRAWN
    assert on_list(as_of=WITHDRAWN + SECOND) == []
    with pytest.raises(services.MarketingObjection, match="an objection is permanent"):
        services.prospect_consent_give(actor=actor, prospect=ann, how="Asked again")
    assert ProspectConsent.objects.filter(prospect=ann).count() == 1 and ChangeLogEntry.objects.count() == logged


@pytest.mark.parametrize("case", ["no_how", "twice", "withdraw_none"])
def test_refusals_change_nothing(ann, actor, case):
    if case == "twice":
        services.prospect_consent_give(actor=actor, prospect=ann, how="Event")
    before = list(ProspectConsent.objects.values_list("pk", "withdrawn_at"))
    logged = ChangeLogEntry.objects.count()

    with pytest.raises(ValidationError):
        if case == "withdraw_none":
            services.prospect_consent_withdraw(actor=actor, prospect=ann)
        else:
            services.prospect_consent_give(actor=actor, prospect=ann, how="" if case == "no_how" else "Again")

    assert list(ProspectConsent.objects.values_list("pk", "withdrawn_at")) == before
    assert ChangeLogEntry.objects.count() == logged


def test_the_console_records_withdraws_and_downloads_the_list(ann, monkeypatch):
    client = console_client(Operator.Role.SUPPORT)
    at(monkeypatch, GIVEN)
    client.post(f"/console/prospects/{ann.pk}/consent/", {"action": "give", "how": "Event sign-up"})
    page = client.get(f"/console/prospects/{ann.pk}/").content.decode()
    listed = client.get("/console/mailing/prospects/news_and_offers.csv").content.decode()
    at(monkeypatch, WITHDRAWN)
    client.post(f"/console/prospects/{ann.pk}/consent/", {"action": "withdraw", "how": ""})
    after = client.get("/console/mailing/prospects/news_and_offers.csv").content.decode()

    assert "Consented 2 Nov 2026 10:00 (Event sign-up): on the marketing list." in page
    assert [r[0] for r in csv.reader(io.StringIO(listed))] == ["name", "Ann Bell"]
    assert [r[0] for r in csv.reader(io.StringIO(after))] == ["name"]
