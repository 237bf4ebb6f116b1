"""python manage.py mail_test --to ADDRESS: send a test message now (not through the worker), to
check the mail settings; the message is recorded like any other."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from shared.mail import delivery
from shared.mail.delivery import error_describe
from shared.mail.services import mail_send
from shared.mail.topics import Topic


class Command(BaseCommand):
    help = "Send a test message to ADDRESS at once, through the configured mail server, and say how it went."

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, metavar="ADDRESS")

    def handle(self, *args, to: str, **options):
        try:
            with transaction.atomic():
                message = mail_send(to=to, template="test_message", context={}, topic=Topic.SECURITY)
        except ValueError as error:
            raise CommandError(str(error)) from None
        try:
            delivery.message_deliver(message.pk)
        except Exception as error:  # noqa: BLE001 - said plainly; the worker will retry the message
            raise CommandError(f"Not sent: {error_describe(error)} (the worker will retry it)") from None
        self.stdout.write(f"Sent to {message.to} ({message.message_id}).")
