"""python manage.py operator_code operator@pupiltracking.example
python manage.py operator_code head@oakfield.example --school oakfield"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from shared.schools.models import Domain
from shared.schools.selectors import school_hostname


class Command(BaseCommand):
    help = ("Development only: print the current one-time code of an operator (or, with --school, of a "
            "school user) and the otpauth:// link to add their authenticator to an app. Refused in production.")

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--school", help="the school's subdomain, for a school user (e.g. oakfield)")

    def handle(self, *args, email, school=None, **options):
        if settings.PRODUCTION:
            raise CommandError("operator_code is for development; in production people use their authenticator app")
        email = email.strip().lower()
        if school is None:
            device = TOTPDevice.objects.filter(user__email=email, user__operator__isnull=False).first()
            if device is None:
                raise CommandError(f"no operator with an authenticator has the email {email!r}")
        else:
            domain = Domain.objects.select_related("tenant").filter(domain=school_hostname(subdomain=school)).first()
            if domain is None:
                raise CommandError(f"no school has the subdomain {school!r}")
            with schema_context(domain.tenant.schema_name):
                device = TOTPDevice.objects.select_related("user").filter(user__email=email, confirmed=True).first()
            if device is None:
                raise CommandError(f"no user of {school} with an authenticator has the email {email!r}")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
        self.stdout.write(f"authenticator link: {device.config_url}", self.style.HTTP_INFO)
