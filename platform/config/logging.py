"""structlog, configured once: JSON lines in production, readable console output in development.

Context (``request_id``, ``schema``, ``user_id``) is bound with ``structlog.contextvars`` by the
web middleware and the dramatiq middleware, so every event carries it. Log ids, never names.
Secret-bearing paths (one-time links) are redacted from every record (``config.redaction``).
"""

from __future__ import annotations

import logging
import sys

import structlog

from config.redaction import install_record_redaction, redact_event


def configure_logging(*, json_output: bool, level: str = "INFO") -> None:
    shared_processors = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = (
        structlog.processors.JSONRenderer()
        if json_output
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.processors.StackInfoRenderer(),
            redact_event,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    # Route the standard library's records (Django, dramatiq, gunicorn) through the same renderer.
    final_processors = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if json_output:  # the console renderer prints tracebacks itself
        final_processors.append(structlog.processors.format_exc_info)
    final_processors.append(redact_event)  # the rendered traceback too
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors, processors=[*final_processors, renderer]
    )
    install_record_redaction()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Django logs every 4xx as a warning through this logger; the request log covers those.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    # The embedded PostgreSQL's bookkeeping of which processes hold it is noise for users.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    # The scheduler's lock refresh runs every few seconds; only its failures are news.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
