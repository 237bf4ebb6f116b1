"""Actors of the users app: the "Forgot password?" mail, looked up and sent by the worker so that the
request that asks for it takes one path whatever the address (see ``password_reset_ask``)."""

from __future__ import annotations

import dramatiq
from django.db import transaction

from shared.automation import DataCategory as D
from shared.automation import Purpose, automated
from tenants.users import mail


def password_reset_ask(*, email: str) -> None:
    """Someone asked for a "Forgot password?" link for ``email`` on this site. Whatever the address,
    this does the same thing (queue one message for the worker, on commit), so neither the answer
    nor its timing tells whether the address has an account; the worker looks it up."""
    email = (email or "").strip()[:254]
    transaction.on_commit(lambda: password_reset_mail.send(email))


@dramatiq.actor(max_retries=3, min_backoff=10_000)
@automated(title='Sending a "Forgot password?" link', reads_school_data=True, purpose=Purpose.MANAGEMENT,
           why='Someone asked for a new password on your site: the link goes only to the account\'s own address.',
           reads=(D.USER_IDENTITY,),
           reads_detail="The account with the address that was given (its name and email), nothing else.",
           sent_by=None, also='when someone uses "Forgot password?" on your site')
def password_reset_mail(email: str = "") -> None:
    if email:
        with transaction.atomic():
            mail.password_reset_send(email=email)
