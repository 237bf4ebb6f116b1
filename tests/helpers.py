"""Small helpers shared by tests."""

from django.test import Client


def host_client(host: str) -> Client:
    """A test client whose requests go to ``host``, as a browser's would."""
    return Client(HTTP_HOST=host)
