"""Outgoing mail is technical information, deleted 365 days after the day it was made (sent or
failed); an address's preferences are marketing information, deleted 3 years after their last
change. Both through the retention run, with its deletion record."""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.retention.run import retention_run
from shared import clock
from shared.mail.models import MailPreference, OutgoingMessage
from shared.mail.services import mail_send, preferences_set
from shared.mail.topics import Topic
from shared.privacy.models import DeletionRecord
from tests.mail_fixtures import mail_deliver_all

pytestmark = pytest.mark.django_db
LAST_OF_DAY = dt.datetime(2026, 1, 1, 23, 59, 59, tzinfo=dt.UTC)


@pytest.mark.parametrize(("as_of", "kept"), [(dt.date(2026, 12, 31), True), (dt.date(2027, 1, 1), False)])
def test_a_message_goes_365_days_after_the_day_it_was_made(smtp, monkeypatch, as_of, kept):
    monkeypatch.setattr(clock, "now", lambda: LAST_OF_DAY)
    sent = mail_send(to="a@example.org", template="test_message", context={}, topic=Topic.SECURITY)
    mail_deliver_all()
    failed = mail_send(to="b@example.org", template="test_message", context={}, topic=Topic.SECURITY)
    OutgoingMessage.objects.filter(pk=failed.pk).update(state=OutgoingMessage.State.FAILED)

    retention_run(as_of=as_of, scope="public")

    assert OutgoingMessage.objects.filter(pk__in=[sent.pk, failed.pk]).count() == (2 if kept else 0)
    assert DeletionRecord.objects.filter(kind="mail_log", unit="mail_log:2026-01-01").exists() != kept


@pytest.mark.parametrize(("as_of", "kept"), [(dt.date(2028, 12, 31), True), (dt.date(2029, 1, 1), False)])
def test_preferences_go_3_years_after_their_last_change(monkeypatch, as_of, kept):
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC))
    preference = preferences_set(address="a@example.org", receives=set())

    retention_run(as_of=as_of, scope="public")

    assert MailPreference.objects.filter(pk=preference.pk).exists() == kept
