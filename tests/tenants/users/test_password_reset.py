"""'Forgot password?' on a school site and on the console: the same answer whatever the address, the
rate limit, the link's one use and its hour, the sessions it ends, and the console's code after it."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from ops.demo import DEMO_OPERATORS, DEMO_PASSWORD
from shared import clock
from shared.audit.models import ChangeLogEntry
from tenants.users import tasks
from tenants.users.models import User
from tenants.users.services import password_link_path, password_reset_account, user_create
from tests.helpers import console_client, current_code, host_client

pytestmark = pytest.mark.django_db
OLD = "an-old-long-pass-1"
NEW = "a-brand-new-pass-2"


def new_user(school, role=User.Role.TEACHER) -> str:
    email = f"reset-{uuid.uuid4().hex[:8]}@{school.demo.subdomain}.example"
    with schema_context(school.school.schema_name):
        user_create(email=email, full_name="Robin Reset", role=role, password=OLD)
    return email


def reset_path(school, email) -> str:
    with schema_context(school.school.schema_name):
        return password_link_path(user=User.objects.get(email=email), reset=True)


def client_for(school, address="198.51.100.40"):
    return host_client(school.hostname, REMOTE_ADDR=address)


def set_new_password(client, path, password=NEW):
    """Follow the link and post the new password; returns the form page's and the post's responses."""
    page = client.get(path, follow=True)
    response = client.post(page.request["PATH_INFO"], {"new_password1": password, "new_password2": password})
    return page, response


def page_text(response) -> bytes:
    """A page less what differs on every response (tokens, nonces)."""
    return re.sub(rb'(value|nonce|content)="[^"]*"', b"", response.content)


@pytest.fixture
def enqueued(monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.password_reset_mail, "send", lambda *args: sent.append(args))
    return sent


def test_every_sign_in_page_offers_forgot_password(oakfield):
    assert b'href="/accounts/password-reset/">Forgot password?' in client_for(oakfield).get("/accounts/login/").content
    console = host_client(settings.BASE_DOMAIN).get("/console/login/")
    assert b'href="/console/password-reset/">Forgot password?' in console.content


def test_the_answer_and_the_work_are_the_same_whether_or_not_the_address_has_an_account(
        oakfield, enqueued, django_capture_on_commit_callbacks):
    known = new_user(oakfield)
    answers = []
    for email in (known, "nobody-here@oakfield.example"):
        client = client_for(oakfield)
        with django_capture_on_commit_callbacks(execute=True) as callbacks, \
                CaptureQueriesContext(connection) as queries:
            response = client.post("/accounts/password-reset/", {"email": email})
        sent_page = client.get(response["Location"])
        # the request's own work: the same queries (none looks the address up), the same message queued
        answers.append((response.status_code, response["Location"], len(callbacks), page_text(sent_page),
                        [re.sub(r"'[^']*'", "?", q["sql"]) for q in queries.captured_queries]))

    # the same redirect, the same page, and the same single message queued for the worker
    assert answers[0] == answers[1]
    assert answers[0][:3] == (302, "/accounts/password-reset/sent/", 1)
    assert enqueued == [(known,), ("nobody-here@oakfield.example",)]
    # the worker's look-up: only the real account gets a link
    with schema_context(oakfield.school.schema_name):
        assert password_reset_account(email=known.upper()).email == known
        assert password_reset_account(email="nobody-here@oakfield.example") is None


def test_asking_too_often_is_refused_for_a_known_and_an_unknown_address_alike(
        oakfield, enqueued, django_capture_on_commit_callbacks):
    known = new_user(oakfield)
    for email, address in ((known, "198.51.100.41"), ("ghost@oakfield.example", "198.51.100.42")):
        client = client_for(oakfield, address)
        with django_capture_on_commit_callbacks(execute=True):
            statuses = [client.post("/accounts/password-reset/", {"email": email}).status_code
                        for _ in range(settings.PASSWORD_RESETS_ALLOWED + 1)]
        assert statuses == [302] * settings.PASSWORD_RESETS_ALLOWED + [429]
    refused = client.post("/accounts/password-reset/", {"email": "ghost@oakfield.example"})
    assert b"Too many requests for a new password" in refused.content
    assert len(enqueued) == 2 * settings.PASSWORD_RESETS_ALLOWED


def test_a_malformed_address_is_a_form_error_and_queues_nothing(oakfield, enqueued):
    response = client_for(oakfield).post("/accounts/password-reset/", {"email": "not an address"})
    assert response.status_code == 200 and b"Enter a valid email address" in response.content
    assert client_for(oakfield).post("/accounts/password-reset/", {"email": "a\x00@b.example"}).status_code == 400
    assert enqueued == []


def test_the_link_sets_a_new_password_once_ends_every_session_and_the_old_password_stops(oakfield):
    email = new_user(oakfield)
    elsewhere = client_for(oakfield, "198.51.100.43")
    assert elsewhere.post("/accounts/login/", {"username": email, "password": OLD}).status_code == 302
    path = reset_path(oakfield, email)

    page, response = set_new_password(client_for(oakfield), path)

    assert b"Set a new password" in page.content
    assert (response.status_code, response["Location"]) == (302, "/accounts/password-reset/done/")
    with schema_context(oakfield.school.schema_name):
        user = User.objects.get(email=email)
        assert user.check_password(NEW) and not user.check_password(OLD)
        assert not any(s.get_decoded().get("_auth_user_id") == str(user.pk) for s in Session.objects.all())
        assert ChangeLogEntry.objects.filter(object_id=str(user.pk), fields=["password"]).count() == 1
    assert elsewhere.get("/").status_code == 302  # signed out there
    fresh = client_for(oakfield, "198.51.100.44")
    assert fresh.post("/accounts/login/", {"username": email, "password": OLD}).status_code == 200
    assert fresh.post("/accounts/login/", {"username": email, "password": NEW}).status_code == 302
    # the link again: it no longer works
    again = client_for(oakfield).get(path, follow=True)
    assert b"This link no longer works" in again.content


def test_the_new_password_meets_the_same_rules_as_the_invitations(oakfield):
    email = new_user(oakfield)
    _, response = set_new_password(client_for(oakfield), reset_path(oakfield, email), password="short")
    assert response.status_code == 200 and b"This password is too short" in response.content
    with schema_context(oakfield.school.schema_name):
        assert User.objects.get(email=email).check_password(OLD)


def test_the_link_expires_after_an_hour(oakfield, monkeypatch):
    moment = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)
    email = new_user(oakfield)
    path = reset_path(oakfield, email)
    monkeypatch.setattr(clock, "now", lambda: moment + dt.timedelta(seconds=settings.PASSWORD_RESET_LINK_TIMEOUT + 1))

    page = client_for(oakfield).get(path, follow=True)

    assert b"This link no longer works" in page.content
    monkeypatch.setattr(clock, "now", lambda: moment + dt.timedelta(minutes=59))
    assert b"Set a new password" in client_for(oakfield).get(path, follow=True).content


def test_an_invitation_link_is_no_reset_link_and_the_reverse(oakfield):
    email = new_user(oakfield)
    with schema_context(oakfield.school.schema_name):
        user = User.objects.get(email=email)
        invitation = password_link_path(user=user, reset=False)
        reset = password_link_path(user=user, reset=True)
    uid, token = invitation.rstrip("/").split("/")[-2:]
    assert b"This link no longer works" in client_for(oakfield).get(
        f"/accounts/password-reset/{uid}/{token}/", follow=True).content
    uid, token = reset.rstrip("/").split("/")[-2:]
    assert b"This link no longer works" in client_for(oakfield).get(
        f"/accounts/set-password/{uid}/{token}/", follow=True).content


def test_a_link_of_one_school_does_nothing_on_another(oakfield, riverside):
    email = new_user(oakfield)
    page = client_for(riverside).get(reset_path(oakfield, email), follow=True)
    assert b"This link no longer works" in page.content


# --- The console -----------------------------------------------------------------------------------

def operator_email() -> str:
    return DEMO_OPERATORS["support"][0]


def test_after_a_reset_the_console_still_asks_for_the_code(oakfield):
    email = operator_email()
    signed_in_before = console_client("support")  # before the link is made: a sign-in changes its token
    assert signed_in_before.get("/console/").status_code == 200
    user = get_user_model().objects.get(email=email)
    path = password_link_path(user=user, reset=True)
    assert path.startswith("/console/password-reset/")
    client = host_client(settings.BASE_DOMAIN, REMOTE_ADDR="198.51.100.45")

    page, response = set_new_password(client, path)

    assert signed_in_before.get("/console/").status_code == 302  # every console session of the account ended

    assert (response.status_code, response["Location"]) == (302, "/console/password-reset/done/")
    done = client.get(response["Location"])
    assert get_user_model().objects.get(email=email).check_password(NEW)
    assert b"the code from your authenticator app" in done.content
    login = host_client(settings.BASE_DOMAIN, REMOTE_ADDR="198.51.100.46")
    assert login.post("/console/login/", {"username": email, "password": DEMO_PASSWORD,
                                          "otp_token": current_code(email)}).status_code == 200  # the old one
    signed_in = login.post("/console/login/", {"username": email, "password": NEW, "otp_token": current_code(email)})
    assert signed_in.status_code == 302
    # without the code the new password alone signs nobody in (a wrong code throttles the device: last)
    alone = host_client(settings.BASE_DOMAIN, REMOTE_ADDR="198.51.100.47")
    response = alone.post("/console/login/", {"username": email, "password": NEW})
    assert response.status_code == 200 and b"Email, password or code is wrong." in response.content
    assert alone.get("/console/").status_code == 302


def test_the_console_sends_links_to_operators_only(oakfield):
    with schema_context("public"):
        assert password_reset_account(email=operator_email()) is not None
        plain = get_user_model().objects.create_user(f"not-an-operator-{uuid.uuid4().hex[:6]}@example.org", OLD)
        assert password_reset_account(email=plain.email) is None


def test_the_console_ask_page_gives_the_same_answer(enqueued):
    for email in (operator_email(), "stranger@example.org"):
        response = host_client(settings.BASE_DOMAIN).post("/console/password-reset/", {"email": email})
        assert (response.status_code, response["Location"]) == (302, "/console/password-reset/sent/")
