"""python manage.py operator_code operator@pupiltracking.example"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = ("Development only: print an operator's current one-time code and the otpauth:// link to add "
            "their authenticator to an app. Refused in production.")

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        if settings.PRODUCTION:
            raise CommandError("operator_code is for development; in production operators use their authenticator app")
        device = TOTPDevice.objects.filter(user__email=email.strip().lower(), user__operator__isnull=False).first()
        if device is None:
            raise CommandError(f"no operator with an authenticator has the email {email!r}")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
        self.stdout.write(f"authenticator link: {device.config_url}", self.style.HTTP_INFO)
