"""python manage.py retention plan|run [--as-of YYYY-MM-DD] [--school SUBDOMAIN] [--format table|json]"""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orchestration.retention.run import RetentionBusy, retention_plan, retention_run, retention_unplannable
from shared import clock
from shared.dates import PLANNED
from shared.progress import Progress
from shared.schools.models import Domain


class Command(BaseCommand):
    help = "Plan (list, deleting nothing) or run the privacy notice's retention schedule."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["plan", "run"])
        parser.add_argument("--as-of", help="The day to stand on (default: today).")
        parser.add_argument("--school", help="Only this school's units, by subdomain.")
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, action, as_of, school, format, **options):
        try:
            day = dt.date.fromisoformat(as_of) if as_of else clock.today()
        except ValueError:
            raise CommandError(f"--as-of must be a date such as 2026-11-28, not {as_of!r}") from None
        if not PLANNED.contains(day):  # a mistyped year would otherwise delete everything
            raise CommandError(f"--as-of: {PLANNED.message()}")
        school_id = None
        if school:
            domain = Domain.objects.filter(domain=f"{school.lower()}.{settings.BASE_DOMAIN}").first()
            if domain is None:
                raise CommandError(f"no school has the subdomain {school!r}")
            school_id = domain.tenant_id
        if action == "plan":
            due = retention_plan(as_of=day, school_id=school_id)
            self._unplannable(school_id)
            if format == "json":
                self.stdout.write(json.dumps([{"kind": d.record.kind, "unit": d.record.key, "school_id": d.record.client_id,
                                               "category": d.record.category.value, "due_on": d.due_on.isoformat(),
                                               "rule": d.rule} for d in due], indent=2))
                return
            self.stdout.write(f"Due for deletion on {day:%d %B %Y}: {len(due)} unit(s). Nothing has been deleted.")
            for d in due:
                self.stdout.write(f"  {d.due_on}  {d.record.kind:<21} {d.record.key:<32} {d.rule}")
            return

        try:
            with Progress(self.stdout, label="  units ") as bar:
                run = retention_run(as_of=day, school_id=school_id, progress=bar.update)
        except RetentionBusy as busy:
            raise CommandError(str(busy)) from None
        self._unplannable(school_id)
        records = sum(run.deletions.values_list("records_deleted", flat=True))
        self.stdout.write(self.style.SUCCESS(f"Retention run for {day:%d %B %Y}: {run.units_deleted} unit(s), "
                                             f"{records} record(s) deleted; see its deletion records."))

    def _unplannable(self, school_id: int | None) -> None:
        """Units whose dates are out of range: never due until corrected (on stderr, so that the
        JSON on stdout stays a plan)."""
        problems = retention_unplannable(school_id=school_id)
        if problems:
            self.stderr.write(self.style.WARNING(f"Could not plan {len(problems)} unit(s); they are kept until corrected:"))
        for item in problems:
            self.stderr.write(f"  {item.record.kind:<21} {item.record.key:<32} {item.problem}")
