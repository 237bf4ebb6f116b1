"""dramatiq middleware: every actor runs in the schema it was enqueued from, and every message
that is given up on is logged.

The schema name travels in the message's options. The worker enters that schema before the actor
runs and always puts the thread's connection back on ``public`` afterwards, whether the actor
returned, raised or was skipped, so the next message on that thread never starts inside a school.

A message whose retries are exhausted (or that was aborted, or too old) is moved by the Redis
broker to its queue's dead-letter set (``<namespace>:<queue>.XQ``, kept ``dead_message_ttl``, 7
days); ``DeadLetterLogMiddleware`` logs it, and the console's dashboard counts them
(``shared.audit.selectors.dead_letters_summary``).
"""

from __future__ import annotations

import dramatiq
import structlog
from django.db import connection
from django_tenants.utils import get_public_schema_name

SCHEMA_OPTION = "schema"
log = structlog.get_logger(__name__)


class SchoolSchemaMiddleware(dramatiq.Middleware):
    def before_enqueue(self, broker, message, delay):
        # setdefault: a retry re-enqueues the message from the worker and keeps its schema.
        message.options.setdefault(SCHEMA_OPTION, connection.schema_name)

    def before_process_message(self, broker, message):
        schema = message.options.get(SCHEMA_OPTION, get_public_schema_name())
        if schema == get_public_schema_name():
            connection.set_schema_to_public()
        else:
            connection.set_schema(schema)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            schema=schema, message_id=message.message_id, actor=message.actor_name, user_id=None
        )

    def after_process_message(self, broker, message, *, result=None, exception=None):
        self._back_to_public()

    def after_skip_message(self, broker, message):
        self._back_to_public()

    @staticmethod
    def _back_to_public():
        connection.set_schema_to_public()
        structlog.contextvars.clear_contextvars()


class DeadLetterLogMiddleware(dramatiq.Middleware):
    """One ``dramatiq.message_dead_lettered`` event per message the broker dead-letters: ids, the
    error's class and the retries it had; never its arguments."""

    def after_nack(self, broker, message):
        error = getattr(message, "_exception", None)
        log.error(
            "dramatiq.message_dead_lettered",
            message_id=message.message_id,
            actor=message.actor_name,
            queue=message.queue_name,
            retries=message.options.get("retries", 0),
            error=type(error).__name__ if error is not None else None,
            schema=message.options.get(SCHEMA_OPTION),
        )
