"""Benchmarks run by ``ops/bench <name>``. Each measures the product's way against a baseline in
the same run, in a scratch database, and prints a table followed by one JSON line."""

import re


def terms_accept_as(*, user, school) -> None:
    """The school admin ``user`` accepts the current Terms of Use for ``school`` where it has not:
    otherwise the site sends them to the terms from every page."""
    from shared.compliance.terms_of_use import terms_accept, terms_current, terms_status

    current = terms_current()
    if current is not None and terms_status(school_id=school.pk).due:
        terms_accept(user=user, school=school, version_id=current.pk, name=user.full_name or "Benchmark",
                     ip_address=None)


def school_sign_in(client, *, email: str, password: str) -> None:
    """Signs ``client`` in to the school site it is pointed at, with the one-time code step where
    the account has an authenticator (every school admin must: it is made for one that has none).
    Imports inside: this package is imported before Django is set up."""
    from django.db import connection
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from shared.schools.models import Domain
    from tenants.users.models import User

    school = Domain.objects.select_related("tenant").get(domain=client.defaults["HTTP_HOST"]).tenant
    connection.set_schema(school.schema_name)
    try:
        user = User.objects.get(email=email)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None and user.role == User.Role.SCHOOL_ADMIN:
            device = TOTPDevice.objects.create(user=user, name="Benchmark", confirmed=True)
        if user.role == User.Role.SCHOOL_ADMIN:
            terms_accept_as(user=user, school=school)
    finally:
        connection.set_schema_to_public()
    response = client.post("/accounts/login/", {"username": email, "password": password})
    assert response.status_code == 302, response.status_code
    if response["Location"].endswith("/accounts/login/code/"):
        page = client.get("/accounts/login/code/").content.decode()
        token = re.search(r'name="form_token" value="([0-9a-f]{32})"', page).group(1)
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        response = client.post("/accounts/login/code/", {"code": f"{totp.token():0{device.digits}d}", "form_token": token})
        assert response.status_code == 302, response.status_code
