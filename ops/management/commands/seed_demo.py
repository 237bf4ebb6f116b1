"""python manage.py seed_demo"""

from django.conf import settings
from django.core.management.base import BaseCommand

from ops.demo import DEMO_OPERATORS, DEMO_PASSWORD, demo_seed
from shared.schools.selectors import site_url


class Command(BaseCommand):
    help = "Create the demo: Oakfield Primary and Riverside Academy with staff and records, and an operator per role."

    def handle(self, *args, **options):
        seeded = demo_seed()
        self.stdout.write(self.style.SUCCESS("Demo ready. Every demo password is: " + DEMO_PASSWORD))
        self.stdout.write(f"  operator console  {site_url(settings.BASE_DOMAIN, '/console/')}")
        for role, (email, _) in DEMO_OPERATORS.items():
            self.stdout.write(f"    {role:<14} {email}")
        self.stdout.write("    one-time code:  python manage.py operator_code <email>   (or scan the otpauth link it prints)")
        for s in seeded:
            self.stdout.write(
                f"  {s.demo.name:<18} {site_url(s.hostname)}  {s.demo.head_email} (admin), "
                f"{s.demo.teacher_email} (teacher), {s.demo.parent_email} (parent), {s.demo.pupil_email} (pupil)"
            )
        self.stdout.write("    the school admin's one-time code:  python manage.py operator_code <email> --school <subdomain>")
