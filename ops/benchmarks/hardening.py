"""What the request hardening costs a school page: the middleware that refuses or marks requests.

A signed-in school admin requests the pupil list (GET) and saves a consent (POST, with a fresh
submit-once token from the form's page, fetched untimed as it grows by a row a request),
in-process (the WSGI stack, middleware, database, Redis), once with the product's middleware and
once, as the baseline, without the hardening layers: the Content-Security-Policy,
the request-size limit, the NUL refusal, no-store, submit-once and the second-factor check. Requests
alternate between the two so machine noise hits both alike; the table gives each median and the
ratio to the baseline.
"""

from __future__ import annotations

import re
import statistics
import time
from typing import TextIO

from django.conf import settings
from django.test import Client
from django_tenants.utils import schema_context

from ops.benchmarks import school_sign_in
from ops.demo import DEMO_PASSWORD, demo_seed
from shared import clock
from shared.progress import Progress
from tenants.pupils.models import Pupil

HARDENING = ["csp.middleware.CSPMiddleware", "config.middleware.RequestSizeLimitMiddleware",
             "config.middleware.RefuseNulMiddleware", "config.middleware.NoStoreMiddleware",
             "shared.submit_once.SubmitOnceMiddleware", "portal.middleware.SecondFactorMiddleware"]
_TOKEN = re.compile(r'name="form_token" value="([0-9a-f]{32})"')


def add_arguments(parser) -> None:
    parser.add_argument("--requests", type=int, default=300, help="requests per page and variant (default 300)")


def _client(hostname: str, middleware: list[str], *, session_of: Client) -> Client:
    """A client on ``session_of``'s signed-in session whose requests go through ``middleware``."""
    settings.MIDDLEWARE = middleware
    client = Client(HTTP_HOST=hostname)
    client.cookies = type(session_of.cookies)(session_of.cookies)
    client.get("/")  # builds this client's middleware chain with the list above
    return client


def _consent(client: Client, pupil: int, purpose: str, timings: dict, name: str) -> None:
    """The consents form's page, then one consent saved through it with the page's fresh token."""
    page = client.get("/rights/consents/")  # not timed: it grows by a row a request
    assert page.status_code == 200, page.status_code
    token = _TOKEN.search(page.content.decode())
    data = {"subject": f"pupil:{pupil}", "purpose": purpose, "given_on": clock.today().isoformat()}
    if token:
        data["form_token"] = token.group(1)
    started = time.perf_counter()
    response = client.post("/rights/consents/", data)
    timings[("POST consent", name)].append((time.perf_counter() - started) * 1000)
    assert response.status_code == 302, response.status_code


def run(args, *, out: TextIO) -> dict:
    out.write(__doc__.splitlines()[0] + "\n")
    school = demo_seed()[0]
    with schema_context(school.school.schema_name):
        pupil = Pupil.objects.order_by("pk").first().pk
    original = settings.MIDDLEWARE
    missing = [name for name in HARDENING if name not in original]
    assert not missing, f"not in MIDDLEWARE: {missing}"
    signed_in = Client(HTTP_HOST=school.hostname)
    school_sign_in(signed_in, email=school.demo.head_email, password=DEMO_PASSWORD)
    try:
        variants = {
            "hardened (the product)": _client(school.hostname, list(original), session_of=signed_in),
            "baseline: without it": _client(school.hostname, [name for name in original if name not in HARDENING],
                                            session_of=signed_in),
        }
    finally:
        settings.MIDDLEWARE = original
    requests = ("GET pupil list", "POST consent")
    timings = {(page, name): [] for page in requests for name in variants}
    bar = Progress(out, args.requests, label="  rounds ")
    for n in range(args.requests):
        # Each variant goes first every other round, so that neither always follows the other.
        for name, client in list(variants.items())[::1 if n % 2 else -1]:
            started = time.perf_counter()
            response = client.get("/pupils/")
            timings[("GET pupil list", name)].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            _consent(client, pupil, f"Benchmark consent {n} {name}", timings, name)
        bar.update(n + 1)
    bar.finish()
    out.write("\n")
    header = f"{'request':<16} | {'variant':<24} | {'median ms':>9} | {'ratio':>5}"
    out.write(header + "\n" + "-" * len(header) + "\n")
    figures: dict[str, dict] = {}
    for page in requests:
        base = statistics.median(timings[(page, "baseline: without it")])
        figures[page] = {}
        for name in variants:
            median = statistics.median(timings[(page, name)])
            figures[page][name] = {"median_ms": round(median, 3), "ratio": round(median / base, 3)}
            out.write(f"{page:<16} | {name:<24} | {median:>9.2f} | {median / base:>5.2f}\n")
    return {"requests": args.requests, "pages": figures}
