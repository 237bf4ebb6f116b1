"""The public request page's signed links: a submission travels in its confirmation link (nothing
stored), is refused when forged, cut short or past its days by ``shared.clock``; the identity link's
service confirms identity once, verifies the address and restarts the month; an extension is refused
after the first month; a submission lands once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from orchestration.public_requests import public_request_land
from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.changes import Actor
from shared.privacy.models import SubjectRequest
from shared.privacy.requests import public
from shared.privacy.requests import services as r

pytestmark = pytest.mark.django_db
D = dt.date
MONDAY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _monday(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: MONDAY)


def token(**change) -> str:
    return public.submission_token(**{"kind": "access", "school_id": None, "name": "Robin", "email": "r@home.example",
                                      "details": "All of it", "submitted_on": D(2026, 11, 2), **change})


def test_a_submission_reads_back_from_its_link_and_stores_nothing():
    before = SubjectRequest.objects.count()
    submission = public.submission_read(token())
    assert (submission.kind, submission.school_id, submission.email, submission.submitted_on) == (
        "access", None, "r@home.example", D(2026, 11, 2))
    assert len(submission.ref) == 32 and SubjectRequest.objects.count() == before


def test_a_forged_cut_or_expired_link_is_refused(monkeypatch):
    good = token()
    for bad in (good[:-4], good + "x", "", "a:b:c"):
        with pytest.raises(ValidationError, match="not valid"):
            public.submission_read(bad)
    monkeypatch.setattr(clock, "now", lambda: MONDAY + dt.timedelta(days=public.SUBMISSION_DAYS + 1))
    with pytest.raises(ValidationError, match="expired"):
        public.submission_read(good)


def test_a_submission_lands_once():
    submission = public.submission_read(token())
    public_request_land(submission=submission)
    before = (SubjectRequest.objects.count(), ChangeLogEntry.objects.count())
    with pytest.raises(ValidationError, match="confirmed already"):
        public_request_land(submission=submission)
    assert (SubjectRequest.objects.count(), ChangeLogEntry.objects.count()) == before


def test_identity_confirmed_by_link_verifies_the_address_and_restarts_the_month(monkeypatch):
    request = r.request_receive(actor=Actor.system(), kind="access", requester_name="Robin",
                                requester_email="r@home.example")
    r.request_await_identity(actor=Actor.system(), request=request)
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC))
    r.request_identity_confirm(actor=Actor.system(), request=request)
    request.refresh_from_db()
    assert (request.state, request.email_verified_on, request.clock_started_on) == (
        "in_progress", D(2026, 11, 20), D(2026, 11, 20))
    assert r.request_deadline(request) == D(2026, 12, 21)  # 20 December is a Sunday
    before = ChangeLogEntry.objects.count()
    with pytest.raises(ValidationError, match="not waiting for proof of identity"):
        r.request_identity_confirm(actor=Actor.system(), request=request)
    assert ChangeLogEntry.objects.count() == before


def test_an_extension_told_after_the_first_month_is_refused_and_changes_nothing(monkeypatch):
    request = r.request_receive(actor=Actor.system(), kind="access", requester_name="Robin")
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2026, 12, 3, 9, tzinfo=dt.UTC))
    before = ChangeLogEntry.objects.count()
    with pytest.raises(ValidationError, match="first month"):
        r.request_extend(actor=Actor.system(), request=request, months=1, reason="Complex", told_on=D(2026, 12, 3))
    request.refresh_from_db()
    assert (request.state, request.extension_months, ChangeLogEntry.objects.count()) == ("received", 0, before)
    # told on the first month's last day (2 December): allowed
    r.request_extend(actor=Actor.system(), request=request, months=1, reason="Complex", told_on=D(2026, 12, 2))
    assert request.state == "extended"
