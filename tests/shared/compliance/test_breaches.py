"""The breach register: the decision needs its reasoning, a report needs its time, a high-risk
breach needs the people told, and a refused action writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.compliance import breaches
from shared.compliance.models import Breach, BreachNotification

pytestmark = pytest.mark.django_db


def changes_to(breach: Breach) -> int:
    return ChangeLogEntry.objects.filter(object_type="compliance.breach", object_id=str(breach.pk)).count()


def test_recording_a_breach_starts_the_72_hour_clock_and_is_change_logged(breach):
    assert breaches.breach_clock(breach).deadline == breach.aware_at + dt.timedelta(hours=72)
    entry = ChangeLogEntry.objects.get(object_type="compliance.breach", object_id=str(breach.pk))
    assert entry.action == "create" and "aware_at" in entry.fields and "nature" in entry.fields


@pytest.mark.parametrize("decision", ["report", "not_report"])
def test_a_decision_without_reasoning_is_refused_and_writes_nothing(actor, make_breach, decision):
    breach = make_breach(risk=Breach.Risk.LOW)
    before = changes_to(breach)

    with pytest.raises(ValidationError) as refused:
        breaches.breach_decide(actor=actor, breach=breach, decision=decision, reasoning="   ")

    assert "reasoning" in refused.value.message_dict
    breach.refresh_from_db()
    assert (breach.ico_decision, breach.ico_decision_reasoning, breach.ico_decided_at) == ("", "", None)
    assert changes_to(breach) == before


def test_the_database_also_refuses_a_decision_without_reasoning(breach):
    with pytest.raises(IntegrityError), transaction.atomic():
        Breach.objects.filter(pk=breach.pk).update(ico_decision="report")


def test_a_decision_not_to_report_is_recorded_with_its_reasoning(actor, make_breach):
    breach = make_breach(risk=Breach.Risk.LOW)

    breaches.breach_decide(actor=actor, breach=breach, decision="not_report",
                           reasoning="Encrypted laptop, key not compromised: unlikely to result in a risk.")

    breach.refresh_from_db()
    assert breach.ico_decision == "not_report" and breach.ico_decided_at is not None
    assert breaches.breach_clock(breach).state == "not_required"


def test_not_reporting_a_breach_that_carries_a_risk_is_refused(actor, breach):
    with pytest.raises(ValidationError, match="reported unless it is unlikely"):
        breaches.breach_decide(actor=actor, breach=breach, decision="not_report", reasoning="We think it is fine.")

    breach.refresh_from_db()
    assert breach.ico_decision == ""


def test_closing_a_high_risk_breach_without_notifications_is_refused(actor, make_breach):
    breach = make_breach(risk=Breach.Risk.HIGH)
    breaches.breach_decide(actor=actor, breach=breach, decision="report", reasoning="High risk to pupils.")
    breaches.breach_ico_report_record(actor=actor, breach=breach, reported_at=clock.now(), reference="IC-1234")
    before = changes_to(breach)

    with pytest.raises(ValidationError) as refused:
        breaches.breach_close(actor=actor, breach=breach)

    assert refused.value.messages == ["The risk is high: record notifying the people affected."]
    breach.refresh_from_db()
    assert breach.closed_at is None
    assert changes_to(breach) == before


def test_a_high_risk_breach_closes_once_the_people_are_told(actor, make_breach):
    breach = make_breach(risk=Breach.Risk.HIGH)
    breaches.breach_decide(actor=actor, breach=breach, decision="report", reasoning="High risk to pupils.")
    breaches.breach_ico_report_record(actor=actor, breach=breach, reported_at=clock.now())
    breaches.breach_notification_record(actor=actor, breach=breach, audience="people", recipient="Parents of 28 pupils",
                                        method="email", notified_at=clock.now(),
                                        content="What happened and what to do.")

    breaches.breach_close(actor=actor, breach=breach)

    breach.refresh_from_db()
    assert breach.closed_at is not None
    with pytest.raises(ValidationError, match="closed"):
        breaches.breach_decide(actor=actor, breach=breach, decision="report", reasoning="Again.")


def test_a_decision_to_report_needs_the_report_before_closing(actor, make_breach):
    breach = make_breach(risk=Breach.Risk.MEDIUM)
    breaches.breach_decide(actor=actor, breach=breach, decision="report", reasoning="A risk to pupils.")

    with pytest.raises(ValidationError) as refused:
        breaches.breach_close(actor=actor, breach=breach)

    assert refused.value.messages == ["The decision is to report to the ICO: record when it was reported."]
    breach.refresh_from_db()
    assert breach.closed_at is None


def test_closing_needs_a_decision_first(actor, breach):
    with pytest.raises(ValidationError, match="Record the decision"):
        breaches.breach_close(actor=actor, breach=breach)


def test_every_affected_school_must_be_told_before_closing(actor, make_breach, oakfield, riverside):
    breach = make_breach(risk=Breach.Risk.LOW, schools=[oakfield.school, riverside.school])
    breaches.breach_decide(actor=actor, breach=breach, decision="not_report", reasoning="Unlikely to be a risk.")
    breaches.breach_notification_record(actor=actor, breach=breach, audience="school", school=oakfield.school,
                                        recipient="Headteacher", method="phone", notified_at=clock.now(),
                                        content="What happened.")

    with pytest.raises(ValidationError) as refused:
        breaches.breach_close(actor=actor, breach=breach)

    assert refused.value.messages == ["Record notifying each affected school: Riverside Academy not yet."]


def test_a_notification_names_only_an_affected_school(actor, make_breach, oakfield, riverside):
    breach = make_breach(schools=[oakfield.school])

    with pytest.raises(ValidationError) as refused:
        breaches.breach_notification_record(actor=actor, breach=breach, audience="school", school=riverside.school,
                                            recipient="Headteacher", method="email", notified_at=clock.now(),
                                            content="What happened.")

    assert "school" in refused.value.message_dict
    assert BreachNotification.objects.filter(breach=breach).count() == 0


def test_a_report_after_72_hours_must_say_why_it_was_late(actor, make_breach):
    breach = make_breach(hours_ago=80)
    breaches.breach_decide(actor=actor, breach=breach, decision="report", reasoning="A risk to pupils.")

    with pytest.raises(ValidationError) as refused:
        breaches.breach_ico_report_record(actor=actor, breach=breach, reported_at=clock.now())
    breaches.breach_ico_report_record(actor=actor, breach=breach, reported_at=clock.now(),
                                      delay_reason="The school told us only yesterday how many pupils were affected.")

    assert "delay_reason" in refused.value.message_dict
    breach.refresh_from_db()
    assert breaches.breach_clock(breach).state == "reported_late"


def test_a_report_needs_the_decision_to_report(actor, breach):
    with pytest.raises(ValidationError, match="decision to report"):
        breaches.breach_ico_report_record(actor=actor, breach=breach, reported_at=clock.now())

    breach.refresh_from_db()
    assert breach.ico_reported_at is None


def test_bad_input_records_no_breach(actor):
    before = Breach.objects.count()

    with pytest.raises(ValidationError) as refused:
        breaches.breach_record(actor=actor, summary="Lost laptop", nature="", risk="high",
                               aware_at=clock.now() + dt.timedelta(hours=1), people_categories=[],
                               data_categories=["pupil"], consequences="x", measures="y")

    assert set(refused.value.message_dict) == {"nature"}
    assert Breach.objects.count() == before


def test_awareness_cannot_be_in_the_future(actor):
    with pytest.raises(ValidationError) as refused:
        breaches.breach_record(actor=actor, summary="Lost laptop", nature="Left on a train.", risk="high",
                               aware_at=clock.now() + dt.timedelta(hours=1), people_categories=["pupils"],
                               data_categories=["pupil"], consequences="x", measures="y")

    assert "aware_at" in refused.value.message_dict


def test_breaches_due_lists_overdue_and_near_due_open_breaches_most_urgent_first(actor, make_breach):
    overdue = make_breach(hours_ago=73, summary="Overdue one")
    near = make_breach(hours_ago=50, summary="Near one")
    make_breach(hours_ago=10, summary="Plenty of time")
    decided = make_breach(hours_ago=90, risk=Breach.Risk.LOW, summary="Decided not to report")
    breaches.breach_decide(actor=actor, breach=decided, decision="not_report", reasoning="Unlikely to be a risk.")

    due = breaches.breaches_due()

    assert [(d.breach.pk, d.clock.state) for d in due] == [(overdue.pk, "overdue"), (near.pk, "near_due")]


def test_breaches_due_at_the_boundaries(make_breach):
    breach = make_breach(hours_ago=1)
    deadline = breach.aware_at + dt.timedelta(hours=72)

    def states(as_of):
        return [d.clock.state for d in breaches.breaches_due(as_of=as_of) if d.breach.pk == breach.pk]

    assert states(deadline - dt.timedelta(hours=24)) == []
    assert states(deadline - dt.timedelta(hours=24) + dt.timedelta(seconds=1)) == ["near_due"]
    assert states(deadline) == ["near_due"]
    assert states(deadline + dt.timedelta(seconds=1)) == ["overdue"]
