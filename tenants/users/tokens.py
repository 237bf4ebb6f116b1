"""The one-time tokens of password links, on Django's token machinery (an HMAC of the user's id,
password hash, last sign-in and a timestamp, never stored): a link stops working once the password
changes (so it works once) or once its time is up.

Two kinds, each with its own salt so one cannot stand in for the other: the set-password link of
an invitation (``default_token_generator``, good for PASSWORD_RESET_TIMEOUT, a week) and the link of
"Forgot password?" (``reset_token_generator``, good for PASSWORD_RESET_LINK_TIMEOUT, an hour)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

from shared import clock


class ResetTokenGenerator(PasswordResetTokenGenerator):
    """A "Forgot password?" token: as Django's, under its own salt, and good for a shorter time."""

    key_salt = "tenants.users.tokens.ResetTokenGenerator"

    @property
    def timeout(self) -> int:
        return settings.PASSWORD_RESET_LINK_TIMEOUT

    def check_token(self, user, token) -> bool:
        if not super().check_token(user, token):
            return False
        try:
            ts = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        # Django's own check uses PASSWORD_RESET_TIMEOUT (the invitation's week); this one is shorter.
        return self._num_seconds(self._now()) - ts <= self.timeout

    def _now(self) -> dt.datetime:
        # The product's clock (tests stand on any moment), as the naive UTC time the base class counts in.
        return clock.now().astimezone(dt.UTC).replace(tzinfo=None)


reset_token_generator = ResetTokenGenerator()


def uid_encode(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))
