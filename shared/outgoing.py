"""The policy for connections the product opens to other services (Xporter today, mail later):
TLS 1.2 or newer with the certificate verified, and in production never plain HTTP.

The floor is set here rather than left to each library's default (urllib3 2 and Python 3.11
agree today, yet smtplib given no context checks no certificate at all), so one place says it
for every client: an HTTP client mounts ``OutgoingHTTPSAdapter`` (``outgoing_session()``), mail
goes through ``OutgoingEmailBackend`` (Django's SMTP backend given ``outgoing_ssl_context()``)."""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend
from django.utils.functional import cached_property
from requests.adapters import HTTPAdapter

MINIMUM_TLS_VERSION = ssl.TLSVersion.TLSv1_2


class InsecureConnectionRefused(Exception):
    """An outgoing connection would have gone without TLS, or with its certificate unchecked."""


def outgoing_ssl_context() -> ssl.SSLContext:
    """A client context: the system's trusted certificates, host names checked, TLS 1.2 at least.
    A fresh one each call: a client that trusts one more certificate adds it to its own."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = MINIMUM_TLS_VERSION
    return context


def outgoing_url_check(url: str, *, service: str) -> None:
    """Refuse, in production, a URL that is not https: before any connection, naming the service."""
    if settings.PRODUCTION and urlsplit(url).scheme.lower() != "https":
        raise InsecureConnectionRefused(f"{service}: {url.split('?')[0]!r} is not an https:// URL; "
                                        f"in production every outgoing connection uses TLS")


class OutgoingHTTPSAdapter(HTTPAdapter):
    """A requests adapter for ``https://`` whose connections use ``outgoing_ssl_context()`` and
    always verify the certificate (``verify=False`` is refused; a CA bundle path is honoured)."""

    def __init__(self, *args, **kwargs):
        self.ssl_context = outgoing_ssl_context()
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["ssl_context"] = self.ssl_context
        return super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, *args, **kwargs):
        kwargs["ssl_context"] = self.ssl_context
        return super().proxy_manager_for(*args, **kwargs)

    def send(self, request, *args, verify=True, **kwargs):
        if verify is False:
            raise InsecureConnectionRefused(f"{urlsplit(request.url).hostname}: certificate checks are never turned off")
        return super().send(request, *args, verify=verify, **kwargs)


class _PlainHTTPRefused(HTTPAdapter):
    def send(self, request, *args, **kwargs):
        raise InsecureConnectionRefused(f"{urlsplit(request.url).hostname}: plain http:// is refused in production")


def outgoing_session(*, max_retries=0) -> requests.Session:
    """A requests session under this policy. Outside production ``http://`` still works (the
    fake Xporter on this machine speaks plain HTTP); in production it is refused, redirects and
    next-page links included."""
    session = requests.Session()
    session.mount("https://", OutgoingHTTPSAdapter(max_retries=max_retries))
    session.mount("http://", _PlainHTTPRefused() if settings.PRODUCTION else HTTPAdapter(max_retries=max_retries))
    return session


class OutgoingEmailBackend(EmailBackend):
    """Django's SMTP backend under this policy: STARTTLS (EMAIL_USE_TLS) or implicit TLS
    (EMAIL_USE_SSL) with ``outgoing_ssl_context()``; in production, neither is refused before
    connecting, as mail would otherwise cross the network readable."""

    @cached_property
    def ssl_context(self):
        context = outgoing_ssl_context()
        if self.ssl_certfile or self.ssl_keyfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def open(self):
        if settings.PRODUCTION and not (self.use_tls or self.use_ssl):
            raise InsecureConnectionRefused(f"mail to {self.host}: set EMAIL_USE_TLS or EMAIL_USE_SSL; "
                                            f"in production every outgoing connection uses TLS")
        return super().open()
