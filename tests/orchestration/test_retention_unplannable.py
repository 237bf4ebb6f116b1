"""A record whose dates are out of range (written past the forms, or from before they checked) is
reported and kept; it stops neither the plan, the console's retention page, the command nor the
daily job, and every other record is planned and deleted as usual."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from orchestration import tasks
from orchestration.retention.run import retention_plan, retention_unplannable
from shared import clock
from shared.billing.models import Invoice, Payment
from shared.billing.services import payment_record
from shared.changes import Actor
from shared.marketing.models import Prospect
from shared.operators.models import Operator
from shared.privacy.models import DeletionRecord
from shared.privacy.retention.registry import Category
from shared.privacy.retention.rules import Period, Record, Shortening, plan, unplannable
from tests.helpers import console_client

FAR = dt.date(9999, 12, 31)


def test_the_planner_leaves_out_and_reports_a_record_it_cannot_plan():
    today = dt.date(2027, 4, 5)
    stale = Record("prospect", "prospect:2", today - dt.timedelta(days=3 * 366 + 1))
    records = [Record("tax_record", "invoice:1", FAR), stale, Record("tax_record", "invoice:3", None, problem="broken")]

    due = plan(records, as_of=today)
    problems = unplannable(records)

    assert [d.record for d in due] == [stale]
    assert [(p.record.key, p.problem) for p in problems] == [
        ("invoice:1", "its period ends beyond the last date there is (year 10007 is out of range)"),
        ("invoice:3", "broken"),
    ]


def test_a_shortened_period_that_overflows_is_reported_too():
    record = Record("tax_record", "invoice:1", dt.date(9999, 6, 1), client_id=4)
    shortening = Shortening(4, Category.TAX, Period(months=12), "asked")

    assert plan([record], as_of=dt.date(2027, 1, 1), shortenings=[shortening]) == []
    assert [p.record.key for p in unplannable([record], [shortening])] == ["invoice:1"]


@pytest.fixture
def far_payment(oakfield):
    """A payment dated 9999-12-31, written straight into the database as an old form allowed."""
    invoice = Invoice.objects.filter(school=oakfield.school, status=Invoice.Status.ISSUED).order_by("pk").first()
    actor = Actor.operator(Operator.objects.first().user)
    payment = payment_record(actor=actor, invoice=invoice, paid_on=clock.today(), amount="1.00")
    Payment.objects.filter(pk=payment.pk).update(paid_on=FAR, tax_year=9999)
    return invoice


@pytest.fixture
def stale_prospect(django_db_setup):
    return Prospect.objects.create(full_name="Old Lead", organisation="Closed Academy",
                                   last_interaction_at=clock.now() - dt.timedelta(days=4 * 366))


@pytest.mark.django_db
def test_the_plan_reports_the_bad_invoice_and_plans_the_rest(far_payment, stale_prospect):
    due = retention_plan(as_of=clock.today(), scope="public")

    assert (("prospect", f"prospect:{stale_prospect.pk}") in {(d.record.kind, d.record.key) for d in due})
    assert [(p.record.kind, p.record.key) for p in retention_unplannable(scope="public")] == \
        [("tax_record", f"invoice:{far_payment.pk}")]


@pytest.mark.django_db
def test_the_console_retention_page_lists_what_it_could_not_plan(far_payment):
    client = console_client(Operator.Role.ADMINISTRATOR)

    page = client.get("/console/retention/")

    assert page.status_code == 200
    assert b"Could not plan" in page.content and f"Invoice {far_payment.pk}".encode() in page.content


@pytest.mark.django_db
def test_the_command_prints_what_it_could_not_plan(far_payment, capsys):
    call_command("retention", "plan")

    captured = capsys.readouterr()
    assert "Could not plan 1 unit(s)" in captured.err and f"invoice:{far_payment.pk}" in captured.err
    assert "year 10000 is out of range" in captured.err
    assert "Nothing has been deleted" in captured.out


@pytest.mark.django_db
def test_the_run_and_the_daily_public_job_delete_the_rest_and_keep_the_bad_invoice(far_payment, stale_prospect, capsys):
    tasks.retention_public.fn(clock.today().isoformat())

    assert not Prospect.objects.filter(pk=stale_prospect.pk).exists()
    assert DeletionRecord.objects.filter(kind="prospect", unit=f"prospect:{stale_prospect.pk}").count() == 1
    assert Invoice.objects.filter(pk=far_payment.pk).exists()
    assert not DeletionRecord.objects.filter(unit=f"invoice:{far_payment.pk}").exists()

    call_command("retention", "run")

    assert f"invoice:{far_payment.pk}" in capsys.readouterr().err
    assert Invoice.objects.filter(pk=far_payment.pk).exists()


@pytest.mark.django_db
def test_the_school_retention_page_lists_a_leaver_it_cannot_plan(oakfield, password):
    from django.utils.html import escape
    from django_tenants.utils import schema_context

    from tenants.pupils.models import Pupil
    from tests.portal.test_site import signed_in

    with schema_context(oakfield.school.schema_name):
        pupil = Pupil.objects.order_by("pk").first()
        Pupil.objects.filter(pk=pupil.pk).update(on_roll=False, leaving_date=FAR)
    admin = signed_in(oakfield, oakfield.demo.head_email, password)

    page = admin.get("/retention/")

    assert page.status_code == 200
    assert b"Could not plan" in page.content and escape(str(pupil)).encode() in page.content


@pytest.mark.django_db
def test_an_as_of_date_out_of_range_is_refused_and_deletes_nothing(stale_prospect):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--as-of: Enter a date between 1 January 1990 and"):
        call_command("retention", "run", "--as-of", "2207-01-01")

    assert Prospect.objects.filter(pk=stale_prospect.pk).exists()
    assert DeletionRecord.objects.count() == 0
