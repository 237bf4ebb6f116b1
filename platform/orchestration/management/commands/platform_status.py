"""python manage.py platform_status"""

from django.conf import settings
from django.core.management.base import BaseCommand

from orchestration import pool
from shared.schools.models import School


class Command(BaseCommand):
    help = "Say which database and broker are in use, and how many schools and spare schemas there are."

    def handle(self, *args, **options):
        self.stdout.write(f"database: {settings.DATABASE_DESCRIPTION}")
        self.stdout.write(f"broker:   {settings.BROKER_DESCRIPTION}")
        self.stdout.write(f"schools:  {School.objects.count()}, spare schemas ready: {pool.spare_count()}")
