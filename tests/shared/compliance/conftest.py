"""Fixtures for the compliance tests: an operator to act as, and a breach to work on."""

from __future__ import annotations

import datetime as dt

import pytest

from shared import clock
from shared.changes import Actor
from shared.compliance import breaches
from shared.compliance.models import Breach
from shared.operators.models import Operator


@pytest.fixture
def actor(django_db_setup) -> Actor:
    return Actor.operator(Operator.objects.get(role=Operator.Role.DPO).user)


def _record_breach(actor: Actor, *, risk: str = Breach.Risk.MEDIUM, hours_ago: float = 2, schools=(),
                  summary: str = "Marksheet export emailed to the wrong school") -> Breach:
    return breaches.breach_record(
        actor=actor, summary=summary, nature="A CSV of one class's results went to another school's office.",
        aware_at=clock.now() - dt.timedelta(hours=hours_ago), risk=risk, people_categories=["pupils"],
        data_categories=["pupil"], consequences="Pupils' attainment seen by staff of another school.",
        measures="Recipient asked to delete it and confirmed in writing.", people_affected=28, records_affected=560,
        schools=schools)


@pytest.fixture
def make_breach(actor):
    """``make_breach(risk=..., hours_ago=..., schools=[...])``: a breach recorded by the DPO."""
    return lambda **kwargs: _record_breach(actor, **kwargs)


@pytest.fixture
def breach(make_breach) -> Breach:
    return make_breach()
