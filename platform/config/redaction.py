"""URLs that carry secrets, and their removal from every log.

A one-time export link or a set-password link is a key: whoever reads it in a log can use it.
``SECRET_ROUTES`` names every such URL (its URL name and its route, as in the urlconfs; a test
checks the two agree and that every route with a token-like parameter is listed). Then:

- the visit log stores the route instead of the path (``path_redact``);
- every log record, the standard library's (Django's ``django.request`` and ``django.server``,
  gunicorn's, dramatiq's) and structlog's alike, has such paths replaced by their route as it is
  created (``install_record_redaction``), so no handler, file or test capture ever sees one;
- the JSON renderer's input is redacted once more (``redact_event``), tracebacks included.

A new URL with a secret in it is added to ``SECRET_ROUTES``, nothing else.
"""

from __future__ import annotations

import logging
import re

# URL name -> route, exactly as in urls_tenants.py / urls_public.py.
SECRET_ROUTES: dict[str, str] = {
    "set_password": "accounts/set-password/<uidb64>/<token>/",
    "rights_export": "rights/exports/<str:token>/",
    "mail_preferences": "mail/preferences/<str:token>/",
    "mail_unsubscribe": "mail/unsubscribe/<str:token>/",
    "password_reset_confirm": "accounts/password-reset/<uidb64>/<token>/",
    "console_password_reset_confirm": "console/password-reset/<uidb64>/<token>/",
    "rights_identity": "rights/identity/<str:token>/",
    "contact_confirm": "contact/confirm/<str:token>/",
    "request_identity": "requests/identity/<str:token>/",
    "request_export_download": "requests/exports/<str:token>/",
}

_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
_SEGMENT = r"[^/\s?#\"'<>]+"


def _display(route: str) -> str:
    """``/rights/exports/<token>/``: the route, converters dropped, as stored and logged."""
    return "/" + _PARAMETER.sub(r"<\1>", route)


def _pattern(route: str) -> re.Pattern:
    parts, last = [], 0
    for match in _PARAMETER.finditer(route):
        parts.append(re.escape(route[last:match.start()]))
        parts.append(_SEGMENT)
        last = match.end()
    tail = route[last:]
    parts.append(re.escape(tail.rstrip("/")) + ("/?" if tail.endswith("/") else ""))
    # With or without its leading slash (a resolver's error quotes the path without), but never
    # inside a longer word.
    return re.compile(r"(?<![\w.-])(/?)" + "".join(parts))


_PATTERNS = [(_pattern(route), _display(route)[1:]) for route in SECRET_ROUTES.values()]


def secrets_redact(text: str) -> str:
    """``text`` with every secret-bearing path in it replaced by its route."""
    for pattern, display in _PATTERNS:
        text = pattern.sub(lambda match, display=display: match.group(1) + display, text)
    return text


def path_redact(path: str, url_name: str | None = None) -> str:
    """The path to keep in the visit log: a secret-bearing one becomes its route."""
    if url_name in SECRET_ROUTES:
        return _display(SECRET_ROUTES[url_name])
    return secrets_redact(path)


def _redact_value(value):
    if isinstance(value, str):
        return secrets_redact(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_redact_value(item) for item in value)
    return value


def redact_event(logger, method_name, event_dict: dict) -> dict:
    """structlog processor: every string value of the event redacted."""
    for name, value in event_dict.items():
        if not name.startswith("_"):
            event_dict[name] = _redact_value(value)
    return event_dict


def _redact_record(record: logging.LogRecord) -> None:
    if isinstance(record.msg, dict):  # a structlog event on its way to the standard library
        redact_event(None, None, record.msg)
    else:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is the logging module's to report
            return
        redacted = secrets_redact(text)
        if redacted != text:
            record.msg, record.args = redacted, None
    if record.exc_info and record.exc_info[0] is not None:
        # A traceback can quote the path (Resolver404 does): when it holds a secret, it is kept as
        # redacted text in the message instead, for every formatter alike.
        traceback_text = logging.Formatter().formatException(record.exc_info)
        redacted = secrets_redact(traceback_text)
        if redacted != traceback_text:
            if isinstance(record.msg, dict):
                record.msg["exception"] = redacted
            else:
                record.msg, record.args = f"{record.getMessage()}\n{redacted}", None
            record.exc_info, record.exc_text = None, None


_installed = False


def install_record_redaction() -> None:
    """Redact every log record as it is created (once per process)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
