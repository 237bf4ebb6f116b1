"""python manage.py provision_school --name "Oakfield Primary" --subdomain oakfield --admin-email head@oakfield.example"""

from django.core.management.base import BaseCommand, CommandError

from orchestration.provisioning import ProvisioningFailed, ProvisioningRefused, school_provision


class Command(BaseCommand):
    help = "Sign a school up: its site, its schema (from the spare pool) and its first school admin."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help='The school\'s name, e.g. "Oakfield Primary".')
        parser.add_argument("--subdomain", required=True, help="Its site's subdomain, e.g. oakfield.")
        parser.add_argument("--admin-email", required=True, help="Email of its first school admin.")

    def handle(self, *args, name, subdomain, admin_email, **options):
        try:
            result = school_provision(name=name, subdomain=subdomain, admin_email=admin_email)
        except ProvisioningRefused as refusal:
            raise CommandError(f"not provisioned: {refusal}") from None
        except ProvisioningFailed as failure:
            raise CommandError(f"not provisioned: {failure}") from failure
        source = "claimed from the spare pool" if result.from_pool else "built now (the spare pool was empty)"
        self.stdout.write(self.style.SUCCESS(f"Provisioned {result.school.name} in {result.seconds * 1000:.0f} ms"))
        self.stdout.write(f"  site:    {result.set_password_url.split('/accounts/')[0]}/")
        self.stdout.write(f"  schema:  {result.school.schema_name} ({source})")
        self.stdout.write(f"  admin:   {result.admin_email}")
        self.stdout.write(f"  set password (shown once, valid 7 days): {result.set_password_url}")
