"""Bulk-inviting 1,500 parents: the admin's "Send" returns at once, and the worker delivers the invitations.

A school of 1,500 pupils, each with one parent with parental responsibility and an email address. The
school admin's "Send" on the bulk-invitation page (the view itself, with its session and messages) is
timed: it works the preview out and queues ONE job. Then a real dramatiq worker (threads on the Redis
broker) runs that job (1,500 accounts made and 1,500 invitations recorded, each delivery queued) and the
deliveries, to a local aiosmtpd server; the rate is messages received by the SMTP server per second.
Baseline, same run and same server: the same number of messages sent by Django's SMTP backend over one
connection (what the server and the SMTP library alone allow).
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from typing import TextIO

import dramatiq
from aiosmtpd.controller import Controller
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.mail import EmailMessage, get_connection
from django.db import connection
from django.test import RequestFactory
from django_tenants.utils import schema_context

from orchestration import pool
from orchestration.provisioning import school_provision
from portal import views
from shared.mail.models import OutgoingMessage
from tenants.pupils.invitations import parent_invitations_run
from tenants.pupils.models import ParentCarer, Pupil, PupilParent
from tenants.users.models import User

TARGET_SECONDS = 1.0


class _Counter:
    def __init__(self) -> None:
        self.count = 0
        self.first = self.last = None
        self.lock = threading.Lock()
        self.subjects: set[str] = set()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            now = time.perf_counter()
            self.first = self.first or now
            self.last = now
            self.count += 1
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def add_arguments(parser) -> None:
    parser.add_argument("--parents", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for every delivery")


def _school(parents: int):
    pool.template_ensure()
    provisioned = school_provision(name="Mail School", subdomain="mailbench", admin_email="head@mailbench.example")
    with schema_context(provisioned.school.schema_name):
        pupils = Pupil.objects.bulk_create([Pupil(forename=f"Pupil{n}", surname="Bench", upn=f"B{n:012d}")
                                            for n in range(parents)])
        carers = ParentCarer.objects.bulk_create([ParentCarer(forename=f"Parent{n}", surname="Bench",
                                                              email=f"parent{n}@mailbench.example")
                                                  for n in range(parents)])
        PupilParent.objects.bulk_create([PupilParent(pupil=p, parent=c, parental_responsibility=True)
                                         for p, c in zip(pupils, carers, strict=True)])
    return provisioned.school


def _send_as_admin(school) -> tuple[float, int]:
    """The admin's POST to the bulk-invitation page, through the view; its seconds and status."""
    with schema_context(school.schema_name):
        head = User.objects.get(email="head@mailbench.example")
        request = RequestFactory().post("/users/invite-parents/", HTTP_HOST=f"mailbench.{settings.BASE_DOMAIN}")
        SessionMiddleware(lambda r: None).process_request(request)
        MessageMiddleware(lambda r: None).process_request(request)
        request.user, request.tenant = head, school
        started = time.perf_counter()
        response = views.parent_invitations(request)
        seconds = time.perf_counter() - started
        connection.set_schema_to_public()
    return seconds, response.status_code


def _baseline(host: str, port: int, count: int) -> float:
    """Seconds for Django's SMTP backend alone to send ``count`` messages over one connection."""
    messages = [EmailMessage(subject="Baseline", body="A baseline message.", from_email=settings.DEFAULT_FROM_EMAIL,
                             to=[f"baseline{n}@mailbench.example"]) for n in range(count)]
    backend = get_connection("django.core.mail.backends.smtp.EmailBackend", host=host, port=port,
                             username="", password="", use_tls=False, use_ssl=False, timeout=10)
    started = time.perf_counter()
    backend.send_messages(messages)
    return time.perf_counter() - started


def run(args, *, out: TextIO) -> dict:
    out.write(__doc__.splitlines()[0] + "\n")
    counter = _Counter()
    host, port = "127.0.0.1", _free_port()
    smtp = Controller(counter, hostname=host, port=port)
    smtp.start()
    settings.EMAIL_BACKEND = "shared.outgoing.OutgoingEmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = host, port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    worker = None
    try:
        out.write(f"  a school of {args.parents:,} pupils and parents...\n")
        school = _school(args.parents)
        broker = dramatiq.get_broker()
        broker.flush_all()

        sends = []
        send_seconds, status = _send_as_admin(school)
        sends.append(send_seconds)
        out.write(f"  the admin's Send returned {status} in {send_seconds:.3f} s; the worker starts...\n")
        started = time.perf_counter()
        worker = dramatiq.Worker(broker, worker_threads=args.threads, worker_timeout=100)
        worker.start()
        deadline, job_done_at = started + args.timeout, None
        with schema_context(school.schema_name):
            while time.perf_counter() < deadline and counter.count < args.parents:
                if job_done_at is None and (parent_invitations_run() or {}).get("status") == "done":
                    job_done_at = time.perf_counter()
                time.sleep(0.05)
            run_state = parent_invitations_run() or {}
        finished = time.perf_counter()
        job_done_at = job_done_at or finished
        worker.stop()
        worker = None
        delivered, first, last = counter.count, counter.first or 0.0, counter.last or 0.0
        failed = OutgoingMessage.objects.filter(state=OutgoingMessage.State.FAILED).count()
        rate = delivered / (last - first) if delivered > 1 and last > first else 0.0
        end_to_end = delivered / (finished - started) if finished > started else 0.0

        out.write(f"  baseline: {args.parents:,} messages by Django's SMTP backend alone...\n")
        baseline_count_before = counter.count
        baseline_seconds = _baseline(host, port, args.parents)
        baseline_rate = (counter.count - baseline_count_before) / baseline_seconds
    finally:
        if worker is not None:
            worker.stop()
        smtp.stop()

    median_send = statistics.median(sends)
    out.write("\n| step | seconds | messages | per second |\n|---|---:|---:|---:|\n")
    out.write(f"| the admin's Send ({args.parents:,} parents): one job queued | **{median_send:.3f}** | | |\n")
    out.write(f"| the job: accounts made, invitations recorded ({run_state.get('sent', 0):,} sent) "
              f"| {job_done_at - started:.2f} | | |\n")
    out.write(f"| worker ({args.threads} threads) to the SMTP server, first to last message | "
              f"{last - first:.2f} | {delivered:,} | **{rate:.0f}** |\n")
    out.write(f"| Send to the last message delivered, end to end | {finished - started:.2f} | {delivered:,} "
              f"| {end_to_end:.0f} |\n")
    out.write(f"| baseline: Django's SMTP backend alone, one connection | {baseline_seconds:.2f} | {args.parents:,} "
              f"| {baseline_rate:.0f} |\n\n")
    met = median_send < TARGET_SECONDS and delivered == args.parents
    out.write(f"The admin's Send took {median_send * 1000:.0f} ms (target under {TARGET_SECONDS:.0f} s): "
              f"{'met' if median_send < TARGET_SECONDS else 'NOT met'}; {delivered:,} of {args.parents:,} delivered, "
              f"{failed} failed; the worker delivers at {rate / baseline_rate:.0%} of the bare SMTP rate.\n")
    return {"parents": args.parents, "send_seconds": round(median_send, 4), "delivered": delivered, "failed": failed,
            "job_seconds": round(job_done_at - started, 2), "messages_per_second": round(rate, 1),
            "end_to_end_messages_per_second": round(end_to_end, 1), "baseline_messages_per_second": round(baseline_rate, 1),
            "worker_threads": args.threads, "target_met": met}
