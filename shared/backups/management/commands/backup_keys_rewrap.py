"""python manage.py backup_keys_rewrap"""

from django.core.management.base import BaseCommand, CommandError

from shared.backups.crypto import BackupError
from shared.backups.keys import data_keys_rewrap


class Command(BaseCommand):
    help = ("After a master key rotation: rewrap every school's backup data key with the current BACKUP_MASTER_KEY, "
            "so the retired one (in BACKUP_MASTER_KEYS_RETIRED) can be thrown away.")

    def handle(self, *args, **options):
        try:
            rewrapped = data_keys_rewrap()
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Data keys rewrapped with the current master key: {rewrapped}."))
