"""Hosts route to their school, sign-ins and sessions stay within their school, unknown hosts 404."""

from __future__ import annotations

import pytest
import structlog
import structlog.testing
from django.conf import settings
from django.test import Client
from django_tenants.utils import schema_context

from orchestration.provisioning import school_provision
from tenants.users.models import User
from tests.helpers import current_code, host_client, school_client

pytestmark = pytest.mark.django_db


def sign_in(client: Client, email: str, password: str):
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_unknown_subdomain_gets_the_404_page():
    response = host_client(f"nowhere.{settings.BASE_DOMAIN}").get("/")

    assert response.status_code == 404
    assert b"There is no school site at this address" in response.content


def test_unknown_path_on_a_school_gets_the_404_page(oakfield):
    response = host_client(oakfield.hostname).get("/no-such-page/")

    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_host_outside_base_domain_is_refused():
    response = host_client("evil.example.com").get("/")

    assert response.status_code in (400, 404)


def test_bare_base_domain_serves_the_landing_page_and_console_login():
    client = host_client(settings.BASE_DOMAIN)

    landing = client.get("/")
    login = client.get("/console/login/")

    assert landing.status_code == 200 and b"Operator console" in landing.content
    assert login.status_code == 200 and b"Operator sign in" in login.content


def test_school_host_serves_that_schools_sign_in(oakfield, riverside):
    assert b"Sign in to Oakfield Primary" in host_client(oakfield.hostname).get("/accounts/login/").content
    assert b"Sign in to Riverside Academy" in host_client(riverside.hostname).get("/accounts/login/").content


def test_hostname_is_case_insensitive(oakfield):
    response = host_client(oakfield.hostname.upper()).get("/accounts/login/")

    assert b"Sign in to Oakfield Primary" in response.content


def test_staff_sign_in_shows_the_dashboard_with_this_schools_users_only(oakfield, riverside, password):
    client = school_client(oakfield, oakfield.demo.head_email, password)  # the user list is the school admin's

    dashboard = client.get("/")
    users = client.get("/users/")  # the dashboard lists no accounts: the users page does

    assert dashboard.status_code == 200 and users.status_code == 200
    assert "<h1>Oakfield Primary</h1>" in dashboard.content.decode()
    content = users.content.decode()
    assert oakfield.demo.head_email in content and oakfield.demo.teacher_email in content
    assert riverside.demo.head_email not in content and riverside.demo.teacher_email not in content


def test_staff_sign_in_of_school_a_is_refused_on_school_b(oakfield, riverside, password):
    client = host_client(riverside.hostname)

    response = sign_in(client, oakfield.demo.teacher_email, password)

    assert response.status_code == 200
    assert b"Please enter a correct email and password" in response.content
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_session_cookie_of_school_a_is_worthless_on_school_b(oakfield, riverside, password):
    a_client = host_client(oakfield.hostname)
    sign_in(a_client, oakfield.demo.teacher_email, password)
    stolen = a_client.cookies[settings.SESSION_COOKIE_NAME].value

    b_client = host_client(riverside.hostname)
    b_client.cookies[settings.SESSION_COOKIE_NAME] = stolen
    response = b_client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert a_client.get("/").status_code == 200  # still good where it was made


def test_session_and_csrf_cookies_are_host_only(oakfield, password):
    client = host_client(oakfield.hostname)
    client.get("/accounts/login/")
    sign_in(client, oakfield.demo.teacher_email, password)

    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
        assert client.cookies[name]["domain"] == ""
    assert client.cookies[settings.SESSION_COOKIE_NAME]["httponly"] is True


@pytest.mark.parametrize("who", ["parent", "pupil"])
def test_pupils_and_parents_do_not_get_staff_pages(oakfield, password, who):
    client = host_client(oakfield.hostname)
    sign_in(client, getattr(oakfield.demo, f"{who}_email"), password)

    assert client.get("/pupils/").status_code == 403
    assert b"<h2>Users" not in client.get("/", follow=True).content


def test_set_password_link_from_provisioning_lets_the_admin_sign_in():
    result = school_provision(name="Elm Tree Infants", subdomain="elmtree", admin_email="head@elmtree.example")
    client = host_client(result.hostname)
    path = result.set_password_url.split(f"{result.hostname}:8000", 1)[1]

    form = client.get(path, follow=True)
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "a-long-new-pass-9", "new_password2": "a-long-new-pass-9"})
    signed_in = sign_in(client, "head@elmtree.example", "a-long-new-pass-9")
    reused = host_client(result.hostname).get(path, follow=True)

    assert b"Set your password" in form.content
    assert done.status_code == 302 and done["Location"] == "/accounts/set-password/done/"
    assert signed_in.status_code == 302
    assert b"This link no longer works" in reused.content


def test_operator_signs_in_to_the_console_and_sees_schools(password):
    from ops.demo import DEMO_OPERATOR_EMAIL

    client = host_client(settings.BASE_DOMAIN)
    response = client.post("/console/login/", {"username": DEMO_OPERATOR_EMAIL, "password": password,
                                               "otp_token": current_code(DEMO_OPERATOR_EMAIL)})
    clients = client.get("/console/clients/")

    assert response.status_code == 302 and response["Location"] == "/console/"
    assert b"Oakfield Primary" in clients.content and b"Riverside Academy" in clients.content


def test_school_staff_cannot_sign_in_to_the_console(oakfield, password):
    client = host_client(settings.BASE_DOMAIN)

    response = client.post("/console/login/", {"username": oakfield.demo.teacher_email, "password": password,
                                               "otp_token": "123456"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/console/").status_code == 302


def test_console_needs_a_signed_in_operator():
    response = host_client(settings.BASE_DOMAIN).get("/console/")

    assert response.status_code == 302 and response["Location"].startswith("/console/login/")


def test_every_response_carries_a_request_id(oakfield):
    response = host_client(oakfield.hostname).get("/accounts/login/", HTTP_X_REQUEST_ID="abc12345-trace")

    assert response["X-Request-ID"] == "abc12345-trace"
    assert len(host_client(oakfield.hostname).get("/accounts/login/")["X-Request-ID"]) == 32


def test_request_log_event_carries_request_id_schema_and_user_id(oakfield, password):
    client = host_client(oakfield.hostname)
    sign_in(client, oakfield.demo.teacher_email, password)
    with schema_context(oakfield.school.schema_name):
        teacher_id = User.objects.get(email=oakfield.demo.teacher_email).pk

    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as events:
        client.get("/", HTTP_X_REQUEST_ID="trace-0001")

    [event] = [e for e in events if e["event"] == "http.request"]
    assert event["request_id"] == "trace-0001"
    assert event["schema"] == oakfield.school.schema_name
    assert event["user_id"] == teacher_id
    assert event["view"] == "home" and event["status"] == 200
    assert oakfield.demo.teacher_email not in repr(event)


@pytest.mark.parametrize("prefix", ["www.", "WWW."])
def test_www_hosts_are_not_served(oakfield, prefix):
    school = host_client(f"{prefix}{oakfield.hostname}").get("/accounts/login/")
    vendor = host_client(f"{prefix}{settings.BASE_DOMAIN}").get("/console/login/")

    assert (school.status_code, vendor.status_code) == (404, 404)
    assert b"There is no school site at this address" in school.content
    assert b"There is no school site at this address" in vendor.content
