"""Property, on the database: for random records, holds and dates, one run deletes exactly what is
past due and not held, and nothing else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.retention.run import retention_run
from shared.marketing.models import Prospect
from shared.privacy.models import LegalHold
from shared.privacy.retention.registry import Category
from shared.privacy.retention.rules import Hold, Record, due_on

pytestmark = pytest.mark.django_db
days = st.dates(min_value=dt.date(2016, 1, 1), max_value=dt.date(2024, 12, 31))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    interactions=st.lists(days, min_size=1, max_size=12),
    held=st.sets(st.integers(min_value=0, max_value=11), max_size=4),
    hold_window=st.tuples(days, st.one_of(st.none(), days)),
    category_hold=st.booleans(),
    as_of=st.dates(min_value=dt.date(2018, 1, 1), max_value=dt.date(2025, 6, 30)),
)
def test_one_run_deletes_exactly_what_is_past_due_and_not_held(interactions, held, hold_window, category_hold, as_of):
    with transaction.atomic():
        prospects = [Prospect.objects.create(full_name=f"P{n}", organisation="O",
                                             last_interaction_at=dt.datetime.combine(day, dt.time(12), dt.timezone.utc))
                     for n, day in enumerate(interactions)]
        starts, ends = hold_window
        holds = []
        for index in sorted(i for i in held if i < len(prospects)):
            holds.append(LegalHold.objects.create(reason="r", owner="o", starts_on=starts, ends_on=ends,
                                                  person=f"prospect:{prospects[index].pk}"))
        if category_hold:
            holds.append(LegalHold.objects.create(reason="r", owner="o", starts_on=starts, ends_on=ends,
                                                  category=Category.MARKETING))

        retention_run(as_of=as_of, scope="public")

        survivors = set(Prospect.objects.filter(pk__in=[p.pk for p in prospects]).values_list("pk", flat=True))
        for prospect, day in zip(prospects, interactions):
            record = Record("prospect", f"prospect:{prospect.pk}", day, person=f"prospect:{prospect.pk}")
            is_held = any(Hold(h.reason, h.owner, h.starts_on, h.ends_on, person=h.person or None,
                               category=Category(h.category) if h.category else None).active_on(as_of)
                          and (h.category or h.person == record.person) for h in holds)
            should_go = due_on(record)[0] <= as_of and not is_held
            assert (prospect.pk not in survivors) == should_go, (day, as_of, is_held)
        transaction.set_rollback(True)
