"""python manage.py create_operator --email ada@pupiltracking.example --name "Ada Lovelace" --role administrator"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from shared.operators.models import Operator
from shared.operators.services import operator_create


class Command(BaseCommand):
    help = "Create a vendor operator. Prints the set-up link for their authenticator app once."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", required=True, choices=Operator.Role.values)

    def handle(self, *args, email, name, role, **options):
        if get_user_model().objects.filter(email=email.strip().lower()).exists():
            raise CommandError(f"there is already an account with the email {email!r}")
        operator, device = operator_create(email=email, full_name=name, role=role)
        self.stdout.write(self.style.SUCCESS(f"Operator {operator.user.email} created ({operator.get_role_display()})."))
        self.stdout.write("They have no password yet: set one with `python manage.py changepassword "
                          f"{operator.user.email}`.")
        self.stdout.write(f"Authenticator app set-up link (shown once): {device.config_url}")
