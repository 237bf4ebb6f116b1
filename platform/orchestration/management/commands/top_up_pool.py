"""python manage.py top_up_pool [--size N]"""

from django.conf import settings
from django.core.management.base import BaseCommand

from orchestration import pool
from shared.progress import Progress


class Command(BaseCommand):
    help = "Rebuild a stale school template and fill the spare-schema pool (what the worker does every 5 minutes)."

    def add_arguments(self, parser):
        parser.add_argument("--size", type=int, default=settings.SCHOOL_POOL_SIZE,
                            help="How many spare schemas to keep (default: SCHOOL_POOL_SIZE).")

    def handle(self, *args, size, **options):
        if size < 0:
            self.stderr.write("--size must be 0 or more")
            raise SystemExit(2)

        with Progress(self.stdout, label="  spare schemas ") as bar:
            made = pool.pool_top_up(size=size, progress=bar.update)
        self.stdout.write(self.style.SUCCESS(f"Spare pool: {pool.spare_count()} ready ({made} made now)."))
