"""The console: one-time codes, throttling, roles, CSRF and submit-once forms."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.conf import settings
from django.urls import reverse

from console.access import SCREENS
from ops.demo import DEMO_OPERATORS, DEMO_PASSWORD
from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.clients.models import Complaint, Contact
from shared.operators.models import Operator
from tests.helpers import console_client, current_code, form_token, host_client

pytestmark = pytest.mark.django_db
ADMIN_EMAIL = DEMO_OPERATORS[Operator.Role.ADMINISTRATOR][0]


def login(client, email=ADMIN_EMAIL, password=DEMO_PASSWORD, code=None):
    return client.post("/console/login/", {"username": email, "password": password,
                                           "otp_token": current_code(email) if code is None else code})


def test_password_alone_is_not_enough():
    client = host_client(settings.BASE_DOMAIN)

    response = login(client, code="")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/console/").status_code == 302


def test_a_wrong_code_is_refused():
    client = host_client(settings.BASE_DOMAIN, REMOTE_ADDR="192.0.2.60")
    right = current_code(ADMIN_EMAIL)

    response = login(client, code=f"{(int(right) + 1) % 1_000_000:06d}")

    assert b"Email, password or code is wrong." in response.content
    assert "_auth_user_id" not in client.session


def _new_operator(prefix: str) -> str:
    from shared.operators.services import operator_create

    email = f"{prefix}-{uuid.uuid4().hex[:8]}@pupiltracking.example"
    operator_create(email=email, full_name="Olu Operator", role=Operator.Role.SUPPORT, password=DEMO_PASSWORD)
    return email


def test_every_failed_sign_in_gets_the_same_message_and_status(oakfield):
    # given an operator, a wrong code for them, and a school user's right password (not an operator)
    email = _new_operator("same")
    wrong_code = f"{(int(current_code(email)) + 1) % 1_000_000:06d}"
    client = host_client(settings.BASE_DOMAIN, REMOTE_ADDR="192.0.2.61")

    # when each fails
    wrong_password = login(client, email=email, password="not-the-password")
    wrong_code_only = login(client, email=email, code=wrong_code)
    not_operator = client.post("/console/login/", {"username": oakfield.demo.head_email, "password": DEMO_PASSWORD,
                                                   "otp_token": "123456"})

    # then nothing tells them apart
    pages = [wrong_password, wrong_code_only, not_operator]
    assert [page.status_code for page in pages] == [200, 200, 200]
    messages = [page.context["form"].non_field_errors() for page in pages]
    assert messages == [["Email, password or code is wrong."]] * 3
    assert b"one-time code is wrong" not in b"".join(page.content for page in pages)
    assert "_auth_user_id" not in client.session


def test_the_account_counter_ignores_how_the_host_and_username_are_spelt():
    # given failures spread over spellings of the host and of the email
    email = _new_operator("spelt")
    hosts = [settings.BASE_DOMAIN, settings.BASE_DOMAIN.upper(), f"{settings.BASE_DOMAIN}:1"]
    spellings = [email, f"  {email.upper()} ", email.title()]
    for number in range(settings.LOGIN_FAILURES_ALLOWED):
        client = host_client(hosts[number % 3], REMOTE_ADDR=f"192.0.2.{70 + number}")
        assert login(client, email=spellings[number % 3], password="wrong-password", code="000000").status_code == 200

    # when the right password and code come from yet another address
    client = host_client(settings.BASE_DOMAIN, REMOTE_ADDR="192.0.2.99")
    throttled = login(client, email=email)

    # then the one account counter refuses it
    assert throttled.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_address_counter_reads_the_forwarded_client_address(monkeypatch):
    # given one proxy in front, and an address that has used up its failures
    monkeypatch.setattr(settings, "TRUSTED_PROXY_COUNT", 1)
    for number in range(settings.LOGIN_FAILURES_ALLOWED * 10):
        client = host_client(settings.BASE_DOMAIN, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
        assert login(client, email=f"nobody-{number}@pupiltracking.example", password="x", code="000000").status_code == 200
    refused = host_client(settings.BASE_DOMAIN, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    other = host_client(settings.BASE_DOMAIN, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8")

    # when an operator signs in through the same proxy from each
    refused_response = login(refused, email=DEMO_OPERATORS[Operator.Role.BILLING][0])
    other_response = login(other, email=DEMO_OPERATORS[Operator.Role.BILLING][0])

    # then only the address that failed is refused
    assert refused_response.status_code == 429
    assert "_auth_user_id" not in refused.session
    assert other_response.status_code == 302


def test_password_and_code_sign_in():
    client = host_client(settings.BASE_DOMAIN)

    response = login(client)

    assert response.status_code == 302 and response["Location"] == "/console/"
    assert client.get("/console/").status_code == 200


def test_sign_in_is_throttled_after_repeated_failures():
    from shared.operators.services import operator_create

    client = host_client(settings.BASE_DOMAIN, REMOTE_ADDR="192.0.2.50")
    email = f"locked-{uuid.uuid4().hex[:8]}@pupiltracking.example"
    operator_create(email=email, full_name="Lou Locked", role=Operator.Role.SUPPORT, password=DEMO_PASSWORD)
    for _ in range(settings.LOGIN_FAILURES_ALLOWED):
        assert login(client, email=email, password="wrong-password").status_code == 200

    throttled = login(client, email=email)  # now even the right password and code

    assert throttled.status_code == 429
    assert b"Too many failed sign-ins. Try again in " in throttled.content
    assert "_auth_user_id" not in client.session
    other = host_client(settings.BASE_DOMAIN, REMOTE_ADDR="192.0.2.51")
    assert login(other, email=DEMO_OPERATORS[Operator.Role.DPO][0]).status_code == 302  # others unaffected


SCREEN_URLS = {
    "dashboard": lambda s: "/console/",
    "clients": lambda s: f"/console/clients/{s.pk}/",
    "client_onboard": lambda s: "/console/clients/new/",
    "contacts": lambda s: f"/console/clients/{s.pk}/contacts/new/",
    "correspondence": lambda s: f"/console/clients/{s.pk}/correspondence/new/",
    "complaints": lambda s: "/console/complaints/",
    "billing": lambda s: "/console/invoices/",
    "prospects": lambda s: "/console/prospects/",
    "technical": lambda s: "/console/technical/changes/",
    "retention": lambda s: "/console/retention/",
    "subject_requests": lambda s: "/console/requests/",
    "recipients": lambda s: "/console/compliance/recipients/",
    "raw_data": lambda s: "/console/raw/",
    "support_access": lambda s: "/console/support/",
    "mailing_lists": lambda s: "/console/mailing/",
    "terms_versions": lambda s: "/console/compliance/terms/",
}


@pytest.mark.parametrize("role", Operator.Role.values)
def test_each_role_sees_only_its_screens(role, oakfield):
    client = console_client(role)

    allowed = {screen for screen, url in SCREEN_URLS.items() if client.get(url(oakfield.school)).status_code == 200}

    assert allowed == {screen for screen in SCREEN_URLS if role in SCREENS[screen]}


def test_every_console_url_is_guarded_by_a_role():
    from django.urls import URLPattern

    from config import urls_public

    views = [p for p in urls_public.urlpatterns if isinstance(p, URLPattern)]  # the raw data view guards itself
    unguarded = [p.name for p in views
                 if p.name not in {"landing", "login", "logout", "privacy_notice", "privacy_notice_version",
                                  "privacy_notice_seen", "terms_of_use_public", "terms_of_use_public_version",
                                  "health", "password_reset", "password_reset_sent", "password_reset_complete",
                                  "console_password_reset_confirm",
                                  "contact", "contact_sent", "contact_confirm", "request_identity",
                                  "request_export_download"}  # the public request page
                 and not hasattr(p.callback, "console_screen")]

    assert unguarded == []


def test_forms_are_protected_against_csrf(oakfield):
    client = console_client(Operator.Role.ADMINISTRATOR)
    client.handler.enforce_csrf_checks = True
    before = Contact.objects.count()

    response = client.post(f"/console/clients/{oakfield.school.pk}/contacts/new/",
                           {"full_name": "No Token", "form_token": "0" * 32})

    assert response.status_code == 403
    assert Contact.objects.count() == before


def test_a_form_submitted_twice_saves_once(oakfield):
    client = console_client(Operator.Role.SUPPORT)
    url = f"/console/clients/{oakfield.school.pk}/complaints/new/"
    token = form_token(client.get(url))
    data = {"kind": "problem", "summary": "Double-clicked report", "form_token": token}

    first = client.post(url, data)
    second = client.post(url, data)

    assert first.status_code == 302 and second.status_code == 302
    assert Complaint.objects.filter(summary="Double-clicked report").count() == 1
    assert b"already submitted" in client.get(second["Location"]).content


def test_a_form_with_errors_can_be_corrected_and_sent_again(oakfield):
    client = console_client(Operator.Role.ADMINISTRATOR)
    url = f"/console/clients/{oakfield.school.pk}/contacts/new/"
    token = form_token(client.get(url))

    bad = client.post(url, {"full_name": "Kim Ray", "email": "not-an-email", "form_token": token})
    good = client.post(url, {"full_name": "Kim Ray", "email": "kim@oakfield.example", "form_token": token})

    assert bad.status_code == 200 and b"Enter a valid email address" in bad.content
    assert good.status_code == 302
    assert Contact.objects.filter(full_name="Kim Ray").count() == 1


@pytest.mark.parametrize(("data", "message"), [
    ({"contract_starts_on": "2026-09-01", "contract_ends_on": "2026-08-01"}, b"cannot end before it starts"),
    ({"contract_starts_on": "2026-02-30"}, b"Enter a valid date"),
    ({"subdomain": "admin"}, b"is reserved"),
])
def test_bad_onboarding_input_gives_a_form_error_and_saves_nothing(data, message):
    from shared.schools.models import School

    client = console_client(Operator.Role.ADMINISTRATOR)
    token = form_token(client.get("/console/clients/new/"))
    before = School.objects.count()
    form = {"name": "Elm Tree", "subdomain": "elmtree", "admin_email": "head@elmtree.example",
            "contract_starts_on": "2026-09-01", "form_token": token, **data}

    response = client.post("/console/clients/new/", form)

    assert response.status_code == 200 and message in response.content
    assert School.objects.count() == before


def test_negative_payment_gives_a_form_error_and_saves_nothing(oakfield):
    from shared.billing.models import Invoice, Payment

    client = console_client(Operator.Role.BILLING)
    invoice = Invoice.objects.filter(school=oakfield.school).first()
    token = form_token(client.get(f"/console/invoices/{invoice.pk}/"))
    before = Payment.objects.count()

    response = client.post(f"/console/invoices/{invoice.pk}/payments/",
                           {"paid_on": "2026-10-01", "amount": "-5", "method": "bacs", "form_token": token})

    assert response.status_code == 200 and b"The amount must be more than zero." in response.content
    assert Payment.objects.count() == before


def test_an_unknown_client_is_a_404():
    client = console_client(Operator.Role.ADMINISTRATOR)

    assert client.get("/console/clients/999999/").status_code == 404
    assert client.get("/console/clients/999999/contacts/new/").status_code == 404


def test_onboarding_through_the_console_provisions_and_logs_the_operator():
    from shared.schools.models import School

    client = console_client(Operator.Role.ADMINISTRATOR)
    token = form_token(client.get("/console/clients/new/"))
    operator = Operator.objects.get(user__email=ADMIN_EMAIL)

    response = client.post("/console/clients/new/", {
        "name": "Elm Tree Infants", "subdomain": "elmtree", "admin_email": "head@elmtree.example",
        "contract_starts_on": "2026-09-01", "contact_name": "Ruth Ade", "form_token": token})

    school = School.objects.get(name="Elm Tree Infants")
    assert response.status_code == 302 and response["Location"] == f"/console/clients/{school.pk}/"
    page = client.get(response["Location"])
    assert b"Invitation sent to head@elmtree.example." in page.content and b"Ruth Ade" in page.content
    entries = ChangeLogEntry.objects.filter(object_type="schools.school", object_id=str(school.pk))
    assert list(entries.values_list("actor_kind", "actor_id")) == [("operator", operator.user_id)]


def test_cancelling_and_undoing_through_the_console(oakfield):
    from shared.clients.selectors import current_contract

    client = console_client(Operator.Role.BILLING)
    cancelled_on = clock.today() - dt.timedelta(days=1)
    page = client.get(f"/console/clients/{oakfield.school.pk}/")
    response = client.post(f"/console/clients/{oakfield.school.pk}/cancel/",
                           {"cancelled_on": cancelled_on.isoformat(), "reason": "", "form_token": form_token(page)})
    page = client.get(response["Location"])
    undo = client.post(f"/console/clients/{oakfield.school.pk}/cancel/undo/", {"form_token": form_token(page)})

    files_go = clock.add_months(cancelled_on, 3)
    assert b"Nothing is deleted now" in page.content
    assert f"{files_go.day} {files_go:%B %Y}".encode() in page.content
    assert undo.status_code == 302
    assert current_contract(oakfield.school).status == "active"


def client_get_following(response) -> str:
    """Where a chain of redirects ends."""
    client = host_client(settings.BASE_DOMAIN)
    location = response["Location"]
    while True:
        hop = client.get(location)
        if hop.status_code != 302:
            return location
        location = hop["Location"]


def test_the_raw_data_view_never_offers_its_own_password_form():
    response = host_client(settings.BASE_DOMAIN).get("/console/raw/")

    login = client_get_following(response)

    assert login.startswith(reverse("login", urlconf="config.urls_public"))


def test_a_repeated_post_only_action_goes_back_to_the_page_it_came_from(oakfield):
    client = console_client(Operator.Role.BILLING)
    page_url = f"/console/clients/{oakfield.school.pk}/"
    token = form_token(client.get(page_url))
    data = {"cancelled_on": (clock.today() - dt.timedelta(days=1)).isoformat(), "reason": "", "form_token": token}
    client.post(f"/console/clients/{oakfield.school.pk}/cancel/", data, HTTP_REFERER=f"http://{settings.BASE_DOMAIN}{page_url}")

    again = client.post(f"/console/clients/{oakfield.school.pk}/cancel/", data,
                        HTTP_REFERER=f"http://{settings.BASE_DOMAIN}{page_url}")

    assert again.status_code == 302 and again["Location"] == f"http://{settings.BASE_DOMAIN}{page_url}"


def test_a_fault_in_sign_up_is_a_form_error_naming_it_and_creates_nothing():
    """Not "the subdomain is already taken", and not an error page: a sequence behind its table's
    ids (as a conversion to Citus once left them) is reported as what it is."""
    from django.db import connection

    from shared.schools.models import School

    client = console_client(Operator.Role.ADMINISTRATOR)
    token = form_token(client.get("/console/clients/new/"))
    before = list(School.objects.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('schools_school', 'id')")
        (sequence,) = cursor.fetchone()
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
        position = cursor.fetchone()
        cursor.execute("SELECT setval(%s, (SELECT min(id) FROM schools_school), false)", [sequence])
    try:
        response = client.post("/console/clients/new/", {
            "name": "Elm Tree Infants", "subdomain": "elmtree", "admin_email": "head@elmtree.example",
            "contract_starts_on": "2026-09-01", "contact_name": "Ruth Ade", "form_token": token})
    finally:
        with connection.cursor() as cursor:  # sequences are not rolled back with the test
            cursor.execute("SELECT setval(%s, %s, %s)", [sequence, *position])

    assert response.status_code == 200
    assert b"The school was not set up: sign-up failed on an unexpected integrity error" in response.content
    assert b"already taken" not in response.content
    assert list(School.objects.values_list("pk", flat=True)) == before
