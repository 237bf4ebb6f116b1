"""Signing in to a school site: throttling, the second factor, enrolment and recovery codes."""

from __future__ import annotations

import binascii
import re
import uuid

import pytest
import structlog.testing
from django.conf import settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from tenants.configuration.models import SignInPolicy
from tenants.users.models import User
from tenants.users.services import recovery_codes_renew, user_create
from tests.helpers import current_code, host_client, school_client

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-pass-7"


def new_user(school, role=User.Role.TEACHER, *, device=False) -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@{school.demo.subdomain}.example"
    with schema_context(school.school.schema_name):
        user = user_create(email=email, full_name="Sam Signin", role=role, password=PASSWORD)
        if device:
            TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return email


def sign_in(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"username": email, "password": password})


def code_for(school, email) -> str:
    with schema_context(school.school.schema_name):
        return current_code(email)


def otp_rows(school) -> tuple[int, int, int]:
    with schema_context(school.school.schema_name):
        return TOTPDevice.objects.count(), StaticDevice.objects.count(), StaticToken.objects.count()


def last_login(school, email):
    with schema_context(school.school.schema_name):
        return User.objects.get(email=email).last_login


def test_forty_wrong_passwords_then_the_right_one_is_refused(oakfield):
    # given an account whose password is guessed 40 times
    email = new_user(oakfield)
    client = host_client(oakfield.hostname, REMOTE_ADDR="198.51.100.10")
    statuses = [sign_in(client, email, f"guess-{n}").status_code for n in range(40)]

    # when the right password comes
    with structlog.testing.capture_logs() as logs:
        response = sign_in(client, email)

    # then it is refused, without signing in, says when to try again, and logs why (no names)
    allowed = settings.LOGIN_FAILURES_ALLOWED
    assert statuses == [200] * allowed + [429] * (40 - allowed)
    assert response.status_code == 429
    assert b"Too many failed sign-ins. Try again in " in response.content
    assert "_auth_user_id" not in client.session
    assert last_login(oakfield, email) is None
    assert client.get("/").status_code == 302
    throttled = [entry for entry in logs if entry["event"] == "signin.throttled"]
    assert [(entry["limit"], 1 <= entry["retry_minutes"] <= 15) for entry in throttled] == [("account", True)]
    assert email not in str(logs)


def test_the_account_counter_is_one_per_normalised_username(oakfield):
    # given failures under spellings of one email, each from an address of its own
    email, other = new_user(oakfield), new_user(oakfield)
    spellings = [email.upper(), f"  {email} ", email.title(), f"\t{email.upper()}", email]
    for number in range(settings.LOGIN_FAILURES_ALLOWED):
        client = host_client(oakfield.hostname, REMOTE_ADDR=f"198.51.100.{20 + number}")
        assert sign_in(client, spellings[number % len(spellings)], "wrong-password").status_code == 200

    # when the account, and another one, sign in from yet another address
    refused_client = host_client(oakfield.hostname, REMOTE_ADDR="198.51.100.40")
    refused = sign_in(refused_client, email)
    other_client = host_client(oakfield.hostname, REMOTE_ADDR="198.51.100.40")
    unaffected = sign_in(other_client, other)

    # then only the guessed account is refused
    assert refused.status_code == 429
    assert "_auth_user_id" not in refused_client.session
    assert unaffected.status_code == 302 and other_client.get("/").status_code == 200


def test_the_same_username_at_another_school_has_its_own_counter(oakfield, riverside):
    # given an email used up at one school
    email = new_user(oakfield)
    with schema_context(riverside.school.schema_name):
        user_create(email=email, full_name="Sam Elsewhere", role=User.Role.TEACHER, password=PASSWORD)
    for _ in range(settings.LOGIN_FAILURES_ALLOWED):
        sign_in(host_client(oakfield.hostname, REMOTE_ADDR="198.51.100.41"), email, "wrong-password")

    # when the same email signs in at the other school
    response = sign_in(host_client(riverside.hostname, REMOTE_ADDR="198.51.100.41"), email)

    assert response.status_code == 302


def test_the_address_counter_reads_the_forwarded_client_address(oakfield, monkeypatch):
    # given one trusted proxy, and one client address that has failed for many accounts
    monkeypatch.setattr(settings, "TRUSTED_PROXY_COUNT", 1)
    email = new_user(oakfield)
    proxy = {"REMOTE_ADDR": "10.1.2.3"}
    for number in range(settings.LOGIN_FAILURES_ALLOWED * 10):
        client = host_client(oakfield.hostname, HTTP_X_FORWARDED_FOR="203.0.113.20", **proxy)
        assert sign_in(client, f"nobody-{number}@oakfield.example", "wrong").status_code == 200

    # when a real user signs in through the same proxy from that address and from another
    refused_client = host_client(oakfield.hostname, HTTP_X_FORWARDED_FOR="203.0.113.20", **proxy)
    refused = sign_in(refused_client, email)
    other_client = host_client(oakfield.hostname, HTTP_X_FORWARDED_FOR="198.18.0.1, 203.0.113.21", **proxy)
    other = sign_in(other_client, email)

    # then only the failing address is refused (the proxy's own address is shared by both)
    assert refused.status_code == 429
    assert "_auth_user_id" not in refused_client.session
    assert other.status_code == 302


def test_a_school_admin_must_enrol_before_reaching_any_page(oakfield):
    # given a school admin with no authenticator yet
    email = new_user(oakfield, User.Role.SCHOOL_ADMIN)
    client = host_client(oakfield.hostname, REMOTE_ADDR="198.51.100.50")

    # when they sign in with their password
    signed_in = sign_in(client, email)

    # then every page sends them to set up two-step sign-in, which shows a QR code made here
    assert signed_in.status_code == 302
    for path in ("/", "/pupils/", "/users/", "/settings/", "/rights/"):
        response = client.get(path)
        assert (response.status_code, response["Location"]) == (302, "/accounts/two-step/"), path
    page = client.get("/accounts/two-step/")
    assert page.status_code == 200
    assert b'<div class="qr"><svg ' in page.content and not re.search(rb"<script(?![^>]*\bsrc=)", page.content)
    assert page.context["secret_text"].replace(" ", "") and b"otpauth://" not in page.content
    assert otp_rows(oakfield) == (1, 0, 0)  # the demo head's only: nothing written for the new admin


def test_enrolment_with_a_wrong_code_changes_nothing(oakfield):
    # given a school admin on the enrolment page
    email = new_user(oakfield, User.Role.SCHOOL_ADMIN)
    client = host_client(oakfield.hostname, REMOTE_ADDR="198.51.100.51")
    sign_in(client, email)
    client.get("/accounts/two-step/")
    before = otp_rows(oakfield)
    secret = client.session["second_factor_secret"]
    right = TOTP(binascii.unhexlify(secret)).token()

    # when they give a wrong code
    response = client.post("/accounts/two-step/", {"action": "enrol", "code": f"{(right + 500_000) % 1_000_000:06d}"})

    # then nothing is turned on
    assert response.status_code == 200
    assert response.context["form"].errors["code"] == [
        "That code is wrong or has expired. Codes change every 30 seconds: try the one showing now."]
    assert otp_rows(oakfield) == before
    assert client.get("/")["Location"] == "/accounts/two-step/"


def test_enrolment_turns_the_second_factor_on_and_shows_recovery_codes_once(oakfield):
    # given a school admin on the enrolment page
    email = new_user(oakfield, User.Role.SCHOOL_ADMIN)
    client = host_client(oakfield.hostname, REMOTE_ADDR="198.51.100.52")
    sign_in(client, email)
    client.get("/accounts/two-step/")
    secret = client.session["second_factor_secret"]

    # when they give the code their app shows
    response = client.post("/accounts/two-step/", {"action": "enrol", "code": f"{TOTP(binascii.unhexlify(secret)).token():06d}"})

    # then the device is on, ten recovery codes are shown, and the pages open
    codes = response.context["codes"]
    assert response.status_code == 200 and len(codes) == 10
    assert all(code.encode() in response.content for code in codes)
    with schema_context(oakfield.school.schema_name):
        device = TOTPDevice.objects.get(user__email=email)
        assert (device.confirmed, device.key) == (True, secret)
        assert sorted(StaticToken.objects.filter(device__user__email=email).values_list("token", flat=True)) == sorted(codes)
    assert "second_factor_secret" not in client.session
    assert client.get("/").status_code == 200
    assert b"recovery-codes" not in client.get("/accounts/two-step/").content  # shown only once
    # and the next sign-in asks for a code
    again = host_client(oakfield.hostname, REMOTE_ADDR="198.51.100.52")
    assert sign_in(again, email)["Location"] == "/accounts/login/code/"


def test_staff_with_a_device_needs_the_code(oakfield, monkeypatch):
    # given a teacher who turned the second factor on (and no pause after a wrong code: a person
    # takes longer than the device's one-second back-off to type the next one)
    monkeypatch.setattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 0, raising=False)
    email = new_user(oakfield, device=True)
    client = host_client(oakfield.hostname, REMOTE_ADDR="198.51.100.53")

    # when they give the password, then a wrong code, then the right one
    password_step = sign_in(client, email)
    between = client.get("/")
    right = code_for(oakfield, email)
    wrong = client.post("/accounts/login/code/", {"code": f"{(int(right) + 1) % 1_000_000:06d}"})
    wrong_signed_in = "_auth_user_id" in client.session
    correct = client.post("/accounts/login/code/", {"code": right})

    # then only the code signs them in
    assert password_step["Location"] == "/accounts/login/code/"
    assert between.status_code == 302 and between["Location"].startswith("/accounts/login/")
    assert wrong.status_code == 200
    assert wrong.context["form"].non_field_errors() == ["That code is wrong or has expired."]
    assert wrong_signed_in is False
    assert correct.status_code == 302 and correct["Location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_codes_count_towards_the_account_limit(oakfield):
    # given a teacher whose password is known but whose codes are guessed
    email = new_user(oakfield, device=True)
    client = host_client(oakfield.hostname, REMOTE_ADDR="198.51.100.54")
    sign_in(client, email)
    for _ in range(settings.LOGIN_FAILURES_ALLOWED):
        assert client.post("/accounts/login/code/", {"code": "000000"}).status_code == 200

    # when the right code comes
    refused = client.post("/accounts/login/code/", {"code": code_for(oakfield, email)})

    # then it is refused too
    assert refused.status_code == 429
    assert b"Too many failed sign-ins. Try again in " in refused.content
    assert "_auth_user_id" not in client.session


def test_a_recovery_code_works_once(oakfield):
    # given a teacher with the second factor on and recovery codes
    email = new_user(oakfield, device=True)
    with schema_context(oakfield.school.schema_name):
        codes = recovery_codes_renew(user=User.objects.get(email=email))
    first = host_client(oakfield.hostname, REMOTE_ADDR="198.51.100.55")
    second = host_client(oakfield.hostname, REMOTE_ADDR="198.51.100.55")

    # when the same recovery code is used twice
    sign_in(first, email)
    used = first.post("/accounts/login/code/", {"code": codes[0]})
    sign_in(second, email)
    reused = second.post("/accounts/login/code/", {"code": codes[0]})

    # then it signs in only the first time
    assert used.status_code == 302 and first.get("/").status_code == 200
    assert reused.status_code == 200 and "_auth_user_id" not in second.session
    assert otp_rows(oakfield)[2] == 9  # the other nine are left (the demo head has none)


def test_requiring_it_for_all_staff_sends_teachers_to_enrol(oakfield, password):
    # given a teacher without a device, and the school admin
    email = new_user(oakfield)
    admin = school_client(oakfield, oakfield.demo.head_email, password)

    # when the admin requires two-step sign-in for all staff
    saved = admin.post("/settings/", {"action": "signin_policy", "staff_second_factor_required": "on"})

    # then the teacher must enrol before any page opens
    teacher = host_client(oakfield.hostname, REMOTE_ADDR="198.51.100.56")
    sign_in(teacher, email)
    assert saved.status_code == 302
    assert teacher.get("/")["Location"] == "/accounts/two-step/"
    assert teacher.get("/pupils/")["Location"] == "/accounts/two-step/"


def test_only_a_school_admin_can_require_it(oakfield, password):
    # given a teacher signed in
    teacher = school_client(oakfield, oakfield.demo.teacher_email, password)

    # when they try to require two-step sign-in for all staff
    response = teacher.post("/settings/", {"action": "signin_policy", "staff_second_factor_required": "on"})

    # then they are refused and nothing changes
    assert response.status_code == 403
    with schema_context(oakfield.school.schema_name):
        assert SignInPolicy.objects.count() == 0


def test_parents_keep_password_only_but_may_turn_it_on_and_off(oakfield, password):
    # given a parent signed in with their password alone
    parent = school_client(oakfield, oakfield.demo.parent_email, password)
    assert parent.get("/").status_code in (200, 302)
    parent.get("/accounts/two-step/")
    secret = parent.session["second_factor_secret"]

    # when they turn it on, then off again with a code
    parent.post("/accounts/two-step/", {"action": "enrol", "code": f"{TOTP(binascii.unhexlify(secret)).token():06d}"})
    on = otp_rows(oakfield)
    with schema_context(oakfield.school.schema_name):
        recovery = StaticToken.objects.filter(device__user__email=oakfield.demo.parent_email).first().token
    off = parent.post("/accounts/two-step/", {"action": "remove", "code": recovery})

    assert on == (2, 1, 10)
    assert off.status_code == 302
    assert otp_rows(oakfield) == (1, 0, 0)


def test_a_school_admin_cannot_turn_it_off(oakfield, password):
    admin = school_client(oakfield, oakfield.demo.head_email, password)
    before = otp_rows(oakfield)

    response = admin.post("/accounts/two-step/", {"action": "remove", "code": code_for(oakfield, oakfield.demo.head_email)})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Your school requires two-step sign-in for your account: it cannot be turned off."]
    assert otp_rows(oakfield) == before


def test_a_session_that_never_gave_a_code_is_signed_out_once_a_device_exists(oakfield, password):
    # given a teacher signed in with their password alone, whose account then gets a device
    # (turned on from another session)
    email = new_user(oakfield)
    client = host_client(oakfield.hostname, REMOTE_ADDR="198.51.100.57")
    sign_in(client, email)
    with schema_context(oakfield.school.schema_name):
        TOTPDevice.objects.create(user=User.objects.get(email=email), name="Authenticator app", confirmed=True)
    before = otp_rows(oakfield)

    # when that session asks for new recovery codes
    response = client.post("/accounts/two-step/", {"action": "recovery"})

    # then it is signed out, and no codes are made
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/")
    assert "_auth_user_id" not in client.session
    assert otp_rows(oakfield) == before
