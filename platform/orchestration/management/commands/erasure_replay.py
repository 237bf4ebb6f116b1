"""Erase again, after a database or school restore, everyone the erasure ledger names."""

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from orchestration.erasure_replay import ledger_replay, public_ledger_replay
from shared.privacy.models import ErasureLedgerEntry
from shared.schools.models import School
from shared.schools.selectors import school_hostname


class Command(BaseCommand):
    help = ("Re-apply the erasure ledger to every school (or one), or with --public to the vendor's own records: "
            "run it after restoring a backup.")

    def add_arguments(self, parser):
        parser.add_argument("--school", metavar="SUBDOMAIN", help="Only this school (its subdomain)")
        parser.add_argument("--public", action="store_true",
                            help="The vendor's own records in public (after a restore of public), from the ledger "
                                 "and its copy outside the database")

    def handle(self, *args, school=None, public=False, **options):
        if public:
            if school:
                raise CommandError("Give --public or --school, not both.")
            removed = public_ledger_replay()
            restored = removed.pop("privacy.ErasureLedgerEntry", 0)
            detail = ", ".join(f"{label} {count}" for label, count in sorted(removed.items())) or "nothing to erase again"
            self.stdout.write(f"public: {detail}; {restored} ledger entr{'y' if restored == 1 else 'ies'} put back")
            self.stdout.write(self.style.SUCCESS(f"Public ledger replayed: {sum(removed.values())} record(s) erased again."))
            return
        schools = School.objects.filter(schema_dropped_at=None, pk__in=ErasureLedgerEntry.objects.values("school"))
        if school:
            hostname = school_hostname(subdomain=school)
            if not School.objects.filter(domains__domain=hostname).exists():
                raise CommandError(f"No school with the subdomain {school!r}.")
            schools = schools.filter(domains__domain=hostname)
        total = 0
        for n, each in enumerate(schools.distinct().order_by("pk"), start=1):
            with schema_context(each.schema_name):
                removed = ledger_replay(each)
            total += sum(removed.values())
            detail = ", ".join(f"{label} {count}" for label, count in sorted(removed.items())) or "nothing to erase again"
            self.stdout.write(f"[{n}] {each.schema_name}: {detail}")
        self.stdout.write(self.style.SUCCESS(f"Ledger replayed: {total} record(s) erased again."))
