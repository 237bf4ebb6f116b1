"""The account mail on a real SMTP server: the "Forgot password?" link (school and console) and
invitations sent again from the users page."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from ops.demo import DEMO_OPERATORS
from shared.mail.models import OutgoingMessage
from tenants.users.models import User
from tenants.users.services import user_create, user_invite
from tests.helpers import host_client, school_client

pytestmark = pytest.mark.django_db
NEW = "a-brand-new-pass-3"


def ask(client, path, email, callbacks):
    with callbacks(execute=True):
        return client.post(path, {"email": email})


def test_a_school_users_reset_link_comes_by_mail_from_the_school_and_works(
        oakfield, smtp, queued, django_capture_on_commit_callbacks):
    email = f"mail-reset-{uuid.uuid4().hex[:6]}@oakfield.example"
    with schema_context(oakfield.school.schema_name):
        user_create(email=email, full_name="Morgan Mail", role=User.Role.TEACHER, password="an-old-long-pass-1")
    client = host_client(oakfield.hostname, REMOTE_ADDR="198.51.100.60")

    ask(client, "/accounts/password-reset/", email.upper(), django_capture_on_commit_callbacks)
    ask(client, "/accounts/password-reset/", "no-such-person@oakfield.example", django_capture_on_commit_callbacks)
    assert queued.actors() == ["password_reset_mail", "password_reset_mail"]
    queued.run()

    (message,) = smtp.messages  # the unknown address got nothing
    assert message["To"] == email
    assert message["Subject"] == f"Set a new password for {oakfield.school.name}"
    assert "List-Unsubscribe" not in message  # service-critical: always sent
    (link,) = [url for url in smtp.links(message) if "/password-reset/" in url]
    assert urlsplit(link).hostname == oakfield.hostname
    form = client.get(urlsplit(link).path, follow=True)
    done = client.post(form.request["PATH_INFO"], {"new_password1": NEW, "new_password2": NEW})
    assert done["Location"] == "/accounts/password-reset/done/"
    with schema_context(oakfield.school.schema_name):
        assert User.objects.get(email=email).check_password(NEW)


def test_an_operators_reset_link_goes_to_the_vendor_host_and_names_the_code(smtp, queued,
                                                                             django_capture_on_commit_callbacks):
    email = DEMO_OPERATORS["billing"][0]
    ask(host_client(settings.BASE_DOMAIN, REMOTE_ADDR="198.51.100.61"), "/console/password-reset/", email,
        django_capture_on_commit_callbacks)
    queued.run()

    (message,) = smtp.messages
    assert message["To"] == email and message["Subject"] == "Set a new password for Pupil Tracking"
    (link,) = [url for url in smtp.links(message) if "/password-reset/" in url]
    assert urlsplit(link).hostname == settings.BASE_DOMAIN and urlsplit(link).path.startswith("/console/password-reset/")
    assert "code from your authenticator app" in smtp.text(message)


def test_an_invitation_is_sent_again_to_someone_who_has_not_set_a_password(
        oakfield, password, smtp, django_capture_on_commit_callbacks):
    from tests.mail_fixtures import mail_deliver_all

    admin = school_client(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        head = User.objects.get(email=oakfield.demo.head_email)
        invited = user_invite(inviter=head, email=f"again-{uuid.uuid4().hex[:6]}@example.org", full_name="Ash Again",
                              role=User.Role.TEACHER)
    page = admin.get("/users/")
    assert b"Send again" in page.content

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/users/", {"action": "resend", "user": invited.pk}, follow=True)

    assert f"Invitation sent again to {invited.email}." in response.content.decode()
    mail_deliver_all()
    (message,) = smtp.messages
    assert message["To"] == invited.email and oakfield.school.name in message["Subject"]
    assert any("/accounts/set-password/" in url for url in smtp.links(message))


def test_sending_again_to_someone_with_a_password_or_of_another_school_is_refused(oakfield, riverside, password, smtp):
    admin = school_client(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        teacher = User.objects.get(email=oakfield.demo.teacher_email)
    with schema_context(riverside.school.schema_name):
        elsewhere = User.objects.order_by("-pk").exclude(pk=teacher.pk).first()
    before = OutgoingMessage.objects.count()

    refused = admin.post("/users/", {"action": "resend", "user": teacher.pk}, follow=True)
    assert "has already set a password" in refused.content.decode()
    for bad in (str(elsewhere.pk + 10_000), "x"):
        response = admin.post("/users/", {"action": "resend", "user": bad}, follow=True)
        assert response.status_code in (200, 400)
    assert OutgoingMessage.objects.count() == before


def test_onboarding_a_school_mails_its_first_admin_the_invitation(smtp):
    from shared.operators.models import Operator
    from tests.helpers import console_client
    from tests.mail_fixtures import mail_deliver_all

    operator = console_client(Operator.Role.ADMINISTRATOR)
    response = operator.post("/console/clients/new/", {
        "name": "Hazel Grove Primary", "subdomain": "hazelgrove", "admin_email": "head@hazelgrove.example",
        "contract_starts_on": "2026-09-01"}, follow=True)

    page = response.content.decode()
    assert "Hazel Grove Primary is set up. Invitation sent to head@hazelgrove.example." in page
    assert "/accounts/set-password/" not in page
    mail_deliver_all()
    (message,) = smtp.messages
    assert message["To"] == "head@hazelgrove.example" and "Hazel Grove Primary" in message["Subject"]
    (link,) = [url for url in smtp.links(message) if "/accounts/set-password/" in url]
    assert urlsplit(link).hostname == f"hazelgrove.{settings.BASE_DOMAIN}"
