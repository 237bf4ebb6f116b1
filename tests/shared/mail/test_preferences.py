"""Mail preferences, without signing in: the footer's link leads to a page where the person
chooses which non-critical topics they get (critical ones are listed as always sent); RFC 8058
one-click unsubscribe turns one topic off with a POST; ``mail_send`` honours both. A bad token is
a clear 404 that changes nothing; a token never shows the address."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.conf import settings

from shared.audit.models import ChangeLogEntry
from shared.mail.models import MailPreference
from shared.mail.services import mail_send
from shared.mail.tokens import preferences_token, unsubscribe_token
from shared.mail.topics import Topic
from tests.helpers import host_client
from tests.mail_fixtures import mail_deliver_all

pytestmark = pytest.mark.django_db


def client():
    return host_client(settings.BASE_DOMAIN)


def received_one(smtp, topic: Topic, to: str = "jane@example.org"):
    mail_send(to=to, template="test_message", context={}, topic=topic)
    mail_deliver_all()
    [message] = smtp.messages
    smtp.clear()
    return message


def test_one_click_unsubscribe_from_the_header_turns_that_topic_off(smtp):
    message = received_one(smtp, Topic.PRODUCT_NEWS)
    url = str(message["List-Unsubscribe"]).strip()[1:-1]
    before = ChangeLogEntry.objects.count()

    # as a mail client does it (RFC 8058): a POST with no cookie, no CSRF and no form token
    response = client().post(urlsplit(url).path, "List-Unsubscribe=One-Click",
                             content_type="application/x-www-form-urlencoded", form_token=False)

    assert response.status_code == 200 and "You are unsubscribed" in response.content.decode()
    assert MailPreference.objects.get(address="jane@example.org").unsubscribed == ["product_news"]
    assert ChangeLogEntry.objects.count() == before + 1
    assert mail_send(to="jane@example.org", template="test_message", context={}, topic=Topic.PRODUCT_NEWS) is None
    assert mail_send(to="jane@example.org", template="test_message", context={}, topic=Topic.WEBINARS) is not None


def test_following_the_unsubscribe_link_only_asks(smtp):
    path = f"/mail/unsubscribe/{unsubscribe_token('jane@example.org', Topic.MARKETING)}/"

    page = client().get(path).content.decode()

    assert "Stop <strong>Offers and marketing</strong> messages to <strong>j•••@example.org</strong>?" in page
    assert not MailPreference.objects.filter(address="jane@example.org").exists()


def test_the_footer_link_opens_the_preferences_page_and_saving_is_honoured(smtp):
    message = received_one(smtp, Topic.SECURITY)
    [path] = [urlsplit(u).path for u in smtp.links(message) if "/mail/preferences/" in u]
    page = client().get(path).content.decode()
    assert "j•••@example.org" in page and "jane@example.org" not in page
    for topic in Topic:
        assert topic.label in page
    assert 'value="product_news" checked' in page

    response = client().post(path, {"topic": ["webinars"]})

    assert response.status_code == 302
    assert sorted(MailPreference.objects.get(address="jane@example.org").unsubscribed) == ["marketing", "product_news"]
    assert "Saved." in client().get(response["Location"]).content.decode()
    assert mail_send(to="jane@example.org", template="test_message", context={}, topic=Topic.MARKETING) is None
    assert mail_send(to="jane@example.org", template="test_message", context={}, topic=Topic.WEBINARS) is not None
    # critical mail cannot be turned off: it is sent whatever the choices
    assert mail_send(to="jane@example.org", template="test_message", context={}, topic=Topic.SECURITY) is not None


def test_posting_a_critical_topic_changes_nothing_for_it():
    path = f"/mail/preferences/{preferences_token('jane@example.org')}/"

    client().post(path, {"topic": ["security", "product_news", "nonsense"]})

    assert sorted(MailPreference.objects.get(address="jane@example.org").unsubscribed) == ["marketing", "webinars"]


@pytest.mark.parametrize("path", [
    "/mail/preferences/nonsense/", "/mail/unsubscribe/nonsense/",
    f"/mail/unsubscribe/{preferences_token('jane@example.org')}/",  # a token of the other kind
    f"/mail/preferences/{unsubscribe_token('jane@example.org', Topic.MARKETING)}/",
    "/mail/preferences/" + "A" * 3000 + "/",
])
def test_a_bad_token_is_a_clear_404_and_changes_nothing(path):
    before = (MailPreference.objects.count(), ChangeLogEntry.objects.count())

    get = client().get(path)
    post = client().post(path, {"topic": ["webinars"]})

    assert get.status_code == post.status_code == 404
    assert "This link is not valid" in get.content.decode()
    assert (MailPreference.objects.count(), ChangeLogEntry.objects.count()) == before


def test_a_token_does_not_show_the_address():
    assert "jane" not in preferences_token("jane@example.org")
    assert "jane" not in unsubscribe_token("jane@example.org", Topic.WEBINARS)


def test_a_persons_access_export_holds_the_mail_sent_to_them_and_their_preferences(smtp):
    from shared.privacy.exports.vendor import vendor_subject_records

    mail_send(to="jane@example.org", template="test_message", context={}, topic=Topic.PRODUCT_NEWS)
    mail_send(to="someone.else@example.org", template="test_message", context={}, topic=Topic.PRODUCT_NEWS)
    client().post(f"/mail/preferences/{preferences_token('jane@example.org')}/", {"topic": ["webinars"]})

    records = vendor_subject_records("Jane@Example.org")

    assert [r["to"] for r in records["mail.OutgoingMessage"]] == ["jane@example.org"]
    assert "A test message" in records["mail.OutgoingMessage"][0]["subject"]
    assert [r["address"] for r in records["mail.MailPreference"]] == ["jane@example.org"]
