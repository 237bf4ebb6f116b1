"""python manage.py backup_school --school SUBDOMAIN | --all [--out DIR]"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orchestration.backup import backup_write
from shared.backups.crypto import BackupError
from shared.progress import Progress
from shared.schools.models import Domain, School
from shared.schools.selectors import school_hostname


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n / 1000:.1f} kB"


class Command(BaseCommand):
    help = ("Back up a school's schema (pg_dump), encrypted with the school's own data key, which retention "
            "destroys with the schema.")

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--school", metavar="SUBDOMAIN", help="The school, by its subdomain.")
        which.add_argument("--all", action="store_true", help="Every active school.")
        parser.add_argument("--out", metavar="DIR", type=Path, default=None,
                            help=f"Folder to write to (default: BACKUP_DIR, {settings.BACKUP_DIR}).")

    def handle(self, *args, school=None, all=False, out=None, **options):
        out = out or settings.BACKUP_DIR
        if school:
            domain = Domain.objects.filter(domain=school_hostname(subdomain=school.lower())).select_related("tenant").first()
            if domain is None:
                raise CommandError(f"no school has the subdomain {school!r}")
            schools = [domain.tenant]
        else:
            schools = list(School.objects.filter(status=School.Status.ACTIVE, schema_dropped_at=None).order_by("pk"))
        written, failed, total_bytes = 0, [], 0
        for n, each in enumerate(schools, start=1):
            label = f"[{n}/{len(schools)}] {each.schema_name}"

            bar = Progress(self.stdout, label=f"{label}: ", amount=_size)
            try:
                result = backup_write(school=each, out_dir=out, progress=bar.update)
            except (BackupError, OSError) as error:
                bar.finish()
                self.stderr.write(f"{label}: not backed up: {error}")
                failed.append(each.schema_name)
                continue
            written += 1
            total_bytes += result.file_bytes
            bar.finish(f"{label}: {_size(result.dump_bytes)} dumped, {_size(result.file_bytes)} written "
                       f"in {result.seconds:.1f} s -> {result.path}")
        summary = f"Backups: {written} written ({_size(total_bytes)}) to {out}, {len(failed)} failed."
        if failed:
            raise CommandError(f"{summary} Failed: {', '.join(failed)}")
        self.stdout.write(self.style.SUCCESS(summary))
