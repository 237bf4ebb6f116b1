"""The vendor's one-time export links: made only for a started request with a verified address,
handed out once and emptied, emptied at expiry by the daily purge; refusals make nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from shared import clock
from shared.changes import Actor
from shared.privacy.exports import links
from shared.privacy.models import VendorExportLink
from shared.privacy.requests import services as r

pytestmark = pytest.mark.django_db
MONDAY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _monday(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: MONDAY)


def started(*, verified: bool):
    request = r.request_receive(actor=Actor.system(), kind="access", requester_name="Robin",
                                requester_email="r@home.example", email_verified_on=MONDAY.date() if verified else None)
    return r.request_start(actor=Actor.system(), request=request)


def test_no_link_for_an_unverified_address_or_an_unstarted_request():
    for request in (started(verified=False),
                    r.request_receive(actor=Actor.system(), kind="access", requester_name="R", requester_email="x@y.example",
                                      email_verified_on=MONDAY.date())):
        with pytest.raises(ValidationError):
            links.vendor_export_link_build(actor=Actor.system(), request=request)
    assert VendorExportLink.objects.count() == 0


def test_a_link_hands_the_export_out_once_and_expired_ones_are_emptied(monkeypatch):
    link, token = links.vendor_export_link_build(actor=Actor.system(), request=started(verified=True))
    _, content = links.vendor_export_download(token=token)
    assert content[:2] == b"PK"
    with pytest.raises(links.VendorExportUnavailable):
        links.vendor_export_download(token=token)
    other, other_token = links.vendor_export_link_build(actor=Actor.system(), request=started(verified=True))
    monkeypatch.setattr(clock, "now", lambda: MONDAY + dt.timedelta(days=30))
    assert links.vendor_exports_expire() == 1
    other.refresh_from_db()
    assert bytes(other.content) == b"" and other.downloaded_at is not None
    with pytest.raises(links.VendorExportUnavailable):
        links.vendor_export_download(token=other_token)
