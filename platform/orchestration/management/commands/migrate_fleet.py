"""python manage.py migrate_fleet [--processes N] [--lock-timeout SECONDS]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from orchestration import fleet
from shared.progress import Progress
from shared.schools.models import School


class Command(BaseCommand):
    help = ("Bring every school schema, the template and the spare pool to the code's migration state: schools "
            "already current are skipped unopened, the others migrate in parallel, each in its own transaction. "
            "Safe to rerun, also after a crash. Run `migrate_schemas --shared` first.")

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, default=fleet.default_processes(),
                            help="Worker processes migrating schools (default: min(4, CPUs) = %(default)s; "
                                 "0 migrates in this process).")
        parser.add_argument("--lock-timeout", type=float, default=fleet.LOCK_TIMEOUT_SECONDS,
                            help="Seconds a school's migration waits for a busy table before it gives up and is "
                                 f"retried ({fleet.LOCK_ATTEMPTS} attempts; default %(default)s).")

    def handle(self, *args, processes, lock_timeout, **options):
        self.stdout.write(f"Migrating the fleet to the code's migration state {fleet.pool.migration_fingerprint()}")
        bar = Progress(self.stdout, label="  ")
        counts = {fleet.MIGRATED: 0, fleet.FAILED: 0}

        def progress(result: fleet.SchoolMigration, done: int, total: int) -> None:
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
            bar.update(done, total, note=f"migrated {counts[fleet.MIGRATED]}, failed {counts[fleet.FAILED]}")

        def started(run: fleet.FleetMigration) -> None:
            template = "rebuilt and re-recorded" if run.template_rebuilt else "current"
            if run.spares_replaced is None:
                spares = "being topped up by another process (it replaces stale spares)"
            else:
                spares = f"{run.spares_replaced} stale spare(s) replaced" if run.spares_replaced else "current"
            self.stdout.write(f"  template: {template}; spare pool: {spares}")
            self.stdout.write(f"  schools: {run.schools - run.behind} of {run.schools} at the current state (not opened), "
                              f"{run.behind} behind, {processes or 'no'} worker process(es)")

        try:
            with bar:
                run = fleet.fleet_migrate(processes=processes, lock_timeout=lock_timeout, started=started,
                                          progress=progress)
        except fleet.FleetMigrationRefused as refusal:
            raise CommandError(f"nothing migrated: {refusal}") from None
        summary = (f"{run.schools} schools: {run.skipped} already current (skipped), {len(run.migrated)} migrated, "
                   f"{len(run.failed)} failed, {len(run.not_run)} not run, in {run.seconds:.1f} s.")
        if run.ok:
            self.stdout.write(self.style.SUCCESS(summary))
            return
        self.stdout.write(self.style.WARNING(summary))
        names = dict(School.objects.filter(pk__in=[r.school_id for r in run.results]).values_list("pk", "name"))
        for result in run.failed:
            self.stdout.write(f"  FAILED {result.schema_name} ({names.get(result.school_id, '?')}), rolled back, "
                              f"site on the maintenance page: {result.error}")
        for result in run.not_run:
            self.stdout.write(f"  NOT RUN {result.schema_name}: {result.error}")
        raise CommandError(f"{len(run.failed)} school(s) failed and {len(run.not_run)} were not run: "
                           "fix the cause and run migrate_fleet again (it picks up only the schools still behind)")
