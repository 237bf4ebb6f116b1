"""Importing a school from Xporter: a full first sync, and re-imports with nothing changed.

A school of 1,500 pupils, 3,000 contacts and 60,000 results (plus 6,000 targets) is served by
the local fake Xporter over HTTP on this machine, in Groupcall's documented shapes, and imported
by the product's client and importer: the full import into fresh schools (median of the runs), then
incremental syncs with nothing changed (each sends the last token, gets nothing new, and stores
the next one). The baseline, in the same run, is the obvious importer: one ``update_or_create`` per
documented row, timed on a tenth of the school and scaled up.
"""

from __future__ import annotations

import statistics
import time
from typing import TextIO

from django.db import transaction
from django_tenants.utils import schema_context

from ops.xporter_fake import FakeSchool, FakeXporter, serve_in_thread
from orchestration import pool
from orchestration.provisioning import school_provision
from tenants.assessment.models import Aspect, Grade, GradeSet, Result, Subject, Target
from tenants.pupils.models import ParentCarer, Pupil
from tenants.xporter.client import XporterClient
from tenants.xporter.models import ImportRun, XporterConnection
from tenants.xporter.services import xporter_sync

TARGET_FULL_SECONDS = 10.0
TARGET_UNCHANGED_SECONDS = 1.0


def add_arguments(parser) -> None:
    parser.add_argument("--pupils", type=int, default=1500)
    parser.add_argument("--contacts-per-pupil", type=int, default=2)
    parser.add_argument("--results-per-pupil", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3, help="full imports, each into a fresh school (default 3)")
    parser.add_argument("--syncs", type=int, default=5, help="unchanged incremental syncs (default 5)")


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def naive_import(fake: FakeSchool) -> None:
    """The baseline: read each documented row and update_or_create it, one at a time."""
    document = fake.document()
    with transaction.atomic():
        grade_set = GradeSet.objects.update_or_create(xporter_id="GS-KS2", defaults={"name": "KS2"})[0]
        grades = {g["Value"]: Grade.objects.update_or_create(grade_set=grade_set, label=g["Value"], defaults={
            "order": g["DisplayOrder"], "points": g["NumericValue"]})[0] for g in document["Grades"]}
        aspects = {}
        for a in document["Aspects"]:
            subject = Subject.objects.update_or_create(xporter_id=a["Id"], defaults={"name": a["Name"]})[0]
            aspects[a["Id"]] = Aspect.objects.update_or_create(xporter_id=a["Id"], defaults={
                "subject": subject, "name": a["Name"], "grade_set": grade_set, "is_headline": True})[0]
        targets = {r["Id"] for r in document["ResultSets"] if "target" in r["Name"].casefold()}
        pupils = {}
        for row in document["Students"]:
            pupils[row["Id"]] = Pupil.objects.update_or_create(xporter_id=row["Id"], defaults={
                "forename": row["Forename"], "surname": row["Surname"], "year_group": " ".join(row["YearGroup"].split()),
                "upn": row["UPN"], "row_hash": row["RowHash"]})[0]
        for row in document["AsmResults"]:
            if row["ResultSetId"] not in targets:
                Result.objects.update_or_create(xporter_id=row["Id"], defaults={
                    "pupil": pupils[row["StudentId"]], "aspect": aspects[row["AspectId"]], "grade": grades[row["Result"]],
                    "recorded_on": row["ResultDate"], "row_hash": row["RowHash"]})


def _unchanged_sync(app: FakeXporter) -> float:
    """One incremental sync with nothing changed: it must send the stored tokens, bring nothing new
    and store the tokens the fake answered."""
    before = XporterConnection.objects.get().cursors
    app.queries.clear()
    seconds = _timed(xporter_sync)
    run = ImportRun.objects.first()
    changed = {k: v for k, v in run.counts.items() if not k.endswith(".unchanged") and v}
    assert run.status == ImportRun.Status.SUCCEEDED and not changed, run.counts
    sent = {q.get("changedRows") for q in app.queries if "changedRows" in q}
    assert sent and sent <= set(before.values()), (sent, before)  # no changeset restarted at "*"
    after = XporterConnection.objects.get().cursors
    assert set(after) == set(before) and all(token in app.snapshots for token in after.values())
    return seconds


def run(args, *, out: TextIO) -> dict:
    out.write(__doc__.splitlines()[0] + "\n")
    pool.template_ensure()
    fake = FakeSchool(estab="3310001", pupils=args.pupils, contacts_per_pupil=args.contacts_per_pupil,
                      results_per_pupil=args.results_per_pupil)
    small = FakeSchool(estab="3310002", pupils=max(1, args.pupils // 10), contacts_per_pupil=args.contacts_per_pupil,
                       results_per_pupil=args.results_per_pupil)
    app = FakeXporter([fake, small])
    base_url, server = serve_in_thread(app)
    rows = {name: len(table) for name, table in fake.tables.items()}
    out.write(f"  school: {rows['Students']:,} pupils, {rows['Contacts']:,} contacts, "
              f"{rows['AssessmentResults']:,} results and targets\n")
    fulls, unchanged = [], []
    try:
        for n in range(1, args.repeats + 1):
            school = school_provision(name=f"Import Bench {n}", subdomain=f"importbench{n}",
                                      admin_email=f"head@importbench{n}.example").school
            with schema_context(school.schema_name):
                XporterConnection.objects.create(base_url=base_url, estab=fake.estab, relying_party="bench",
                                                 password=fake.password)
                out.write(f"  full import {n} of {args.repeats}...\n")
                fulls.append(_timed(xporter_sync))
        out.write(f"  {args.syncs} re-imports, nothing changed (incremental, as the nightly run does)...\n")
        with schema_context(school.schema_name):
            unchanged = [_unchanged_sync(app) for _ in range(args.syncs)]
            XporterConnection.objects.update(cursors={})
            out.write("  re-import, nothing changed (everything fetched again)...\n")
            unchanged_full = _timed(xporter_sync)
            every_aspect = {"Aspects": ",".join(sorted(a["Id"] for a in fake.document(("assessmentstructure",))["Aspects"]))}
            fetch_only = _timed(lambda: [XporterClient(base_url=base_url, estab=fake.estab, relying_party="b",
                                                       password=fake.password).fetch(e, params=p)
                                         for e, p in (("Students", None), ("assessmentresults", every_aspect))])
            counts = {"pupils": Pupil.objects.count(), "contacts": ParentCarer.objects.count(),
                      "results": Result.objects.count(), "targets": Target.objects.count()}
        baseline_school = school_provision(name="Naive Bench", subdomain="naivebench", admin_email="h@naive.example").school
        with schema_context(baseline_school.schema_name):
            out.write(f"  baseline: row-by-row import of {small.pupils} pupils...\n")
            naive = _timed(lambda: naive_import(small)) * fake.pupils / small.pupils
    finally:
        server.shutdown()

    full, unchanged_incremental = statistics.median(fulls), statistics.median(unchanged)
    out.write(f"\nImporting {counts['pupils']:,} pupils, {counts['contacts']:,} contacts, {counts['results']:,} results "
              f"and {counts['targets']:,} targets:\n")
    header = f"{'import':<56} | {'median s':>8} | {'runs':>4} | {'vs baseline':>11}"
    out.write(header + "\n" + "-" * len(header) + "\n")
    table = [("full first import (product)", full, len(fulls)),
             ("re-import, nothing changed, incremental (product)", unchanged_incremental, len(unchanged)),
             ("re-import, nothing changed, all rows fetched (product)", unchanged_full, 1),
             ("  of which fetching Students and results over HTTP", fetch_only, 1),
             ("baseline: update_or_create per row (scaled from 1/10)", naive, 1)]
    for label, seconds, runs in table:
        out.write(f"{label:<56} | {seconds:>8.2f} | {runs:>4} | {naive / seconds:>10.0f}x\n")
    met = full < TARGET_FULL_SECONDS and unchanged_incremental < TARGET_UNCHANGED_SECONDS
    out.write(f"Targets: full under {TARGET_FULL_SECONDS:.0f} s, unchanged re-import under {TARGET_UNCHANGED_SECONDS:.0f} s: "
              f"{'met' if met else 'NOT met'}. Full import {naive / full:.0f}x faster than the baseline.\n")
    return {"rows": rows, "imported": counts, "full_seconds": round(full, 2), "full_runs": [round(t, 2) for t in fulls],
            "unchanged_incremental_seconds": round(unchanged_incremental, 3),
            "unchanged_incremental_runs": [round(t, 3) for t in unchanged],
            "unchanged_full_seconds": round(unchanged_full, 2), "fetch_seconds": round(fetch_only, 2),
            "baseline_seconds": round(naive, 1), "baseline_ratio": round(naive / full, 1), "target_met": met}
