"""python manage.py restore_school --file PATH [--school SUBDOMAIN] [--check]"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from orchestration.backup import backup_check
from orchestration.restore import backup_restore
from shared.backups.crypto import BackupError
from shared.progress import Progress
from shared.schools.models import Domain
from shared.schools.selectors import school_hostname


class Command(BaseCommand):
    help = ("Replace a school's schema with the one in its backup, then erase again everyone the erasure ledger "
            "names and delete again what retention has deleted since. Refused for a school retention dropped.")

    def add_arguments(self, parser):
        parser.add_argument("--file", required=True, type=Path, metavar="PATH", help="The .backup file.")
        parser.add_argument("--school", metavar="SUBDOMAIN",
                            help="The school it must belong to (refused if it is another school's backup).")
        parser.add_argument("--check", action="store_true",
                            help="Only decrypt and authenticate the whole file; restore nothing.")

    def handle(self, *args, file, school=None, check=False, **options):
        target = None
        if school:
            domain = Domain.objects.filter(domain=school_hostname(subdomain=school.lower())).select_related("tenant").first()
            if domain is None:
                raise CommandError(f"no school has the subdomain {school!r}")
            target = domain.tenant
        try:
            if check:
                size = backup_check(path=file, school=target)
                self.stdout.write(self.style.SUCCESS(f"{file}: intact and readable ({size} bytes of dump). "
                                                     "Nothing was restored."))
                return

            with Progress(self.stdout, label="  restoring: ", amount=lambda n: f"{n / 1_000_000:.1f} MB") as bar:
                restored = backup_restore(path=file, school=target, progress=bar.update)
        except BackupError as error:
            raise CommandError(f"not restored: {error}") from None
        if restored.migrated:
            self.stdout.write("  the backup predated some migrations: the schema was migrated")
        erased = ", ".join(f"{label} {count}" for label, count in sorted(restored.erased_again.items()))
        self.stdout.write(f"  erasure ledger replayed: {erased or 'nothing to erase again'}")
        self.stdout.write(f"  retention deletions applied again: {restored.retention_reapplied} record(s)")
        self.stdout.write(self.style.SUCCESS(
            f"Restored school {restored.school_id} ({restored.schema}) from {file} in {restored.seconds:.1f} s."))
