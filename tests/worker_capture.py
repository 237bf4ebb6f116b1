"""The worker, in a test: capture what the product enqueues (each message with the schema it was
sent from, as the broker's middleware stamps it) and run it here, in the test's transaction, as the
worker would. Deliveries are left to ``tests.mail_fixtures.mail_deliver_all`` (the mail core's path)."""

from __future__ import annotations

import dramatiq
import pytest
from django_tenants.utils import schema_context

from config.broker import SchoolSchemaMiddleware
from tests.mail_fixtures import mail_deliver_all


class Queue(list):
    def actors(self) -> list[str]:
        return [message.actor_name for message in self]

    def run(self) -> list:
        """Run every captured message but the deliveries, each in its schema (those it sends too),
        then deliver every queued message; returns the messages delivered."""
        broker = dramatiq.get_broker()
        while True:
            jobs = [message for message in self if message.actor_name != "mail_deliver"]
            self[:] = [message for message in self if message.actor_name == "mail_deliver"]
            if not jobs:
                break
            for message in jobs:
                with schema_context(message.options["schema"]):
                    broker.get_actor(message.actor_name).fn(*message.args, **message.kwargs)
        self.clear()
        return mail_deliver_all()


@pytest.fixture
def queued(monkeypatch) -> Queue:
    broker = dramatiq.get_broker()
    middleware = SchoolSchemaMiddleware()
    sent = Queue()

    def enqueue(message, *, delay=None):
        middleware.before_enqueue(broker, message, delay)
        sent.append(message)
        return message

    monkeypatch.setattr(broker, "enqueue", enqueue)
    return sent
