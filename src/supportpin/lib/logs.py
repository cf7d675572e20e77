"""Structured logs: every line, ours and Django's, as one JSON object (or readable in dev)."""

import sys

import structlog
from structlog.typing import Processor

FORMATS = ("json", "console")

# Applied to structlog's events and to plain `logging` records alike, so both carry the
# request id bound for the current request.
_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def logging_config(*, log_format: str, level: str) -> dict:
    """Configure structlog and return the `LOGGING` dict that renders every line in `log_format`."""
    structlog.configure(
        processors=[
            *_SHARED,
            # log.warning("... %s", value) reads like the standard library's calls.
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": _SHARED,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    renderer,
                ],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Its 4xx warnings name the raw path (customer numbers); the request line has the
            # route and status instead. Server errors still come through with their traceback.
            "django.request": {"level": "ERROR"},
        },
    }
