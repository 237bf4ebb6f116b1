"""python manage.py seed_demo"""

from django.conf import settings
from django.core.management.base import BaseCommand

from ops.demo import DEMO_OPERATOR_EMAIL, DEMO_PASSWORD, demo_seed
from shared.schools.selectors import site_url


class Command(BaseCommand):
    help = "Create the demo schools (Oakfield Primary, Riverside Academy), their staff and an operator."

    def handle(self, *args, **options):
        seeded = demo_seed()
        self.stdout.write(self.style.SUCCESS("Demo ready. Every demo password is: " + DEMO_PASSWORD))
        self.stdout.write(f"  operator console  {site_url(settings.BASE_DOMAIN, '/console/')}  {DEMO_OPERATOR_EMAIL}")
        for s in seeded:
            self.stdout.write(
                f"  {s.demo.name:<18} {site_url(s.hostname)}  {s.demo.head_email} (admin), "
                f"{s.demo.teacher_email} (teacher)"
            )
