"""Logging configuration: one JSON object per line, with service and request id.

``settings.py`` builds ``LOGGING`` from the ``[logging]`` config::

    LOGGING = build_logging(config.logging)
    # {"time": "...", "level": "INFO", "logger": "joule.request",
    #  "message": "GET /orders/ 200", "service": "orders", "request_id": "..."}
"""

from __future__ import annotations

import logging
import time

from platform_core.config.types import LoggingConfig
from platform_core.observability.context import current

access_log = logging.getLogger("joule.request")


class ContextFilter(logging.Filter):
    """Add ``service`` and ``request_id`` of the current request to records."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = current()
        if not hasattr(record, "service"):
            record.service = context.service
        if not hasattr(record, "request_id"):
            record.request_id = context.request_id
        return True


def log_request(method: str, path: str, status: int, started: float) -> None:
    """Log one access line for a finished request."""
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    access_log.info(
        "%s %s %s",
        method,
        path,
        status,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
        },
    )


def build_logging(config: LoggingConfig) -> dict:
    """Return a ``LOGGING`` dict for Django's dictConfig."""
    if config.format == "json":
        formatter = {
            "()": "pythonjsonlogger.orjson.OrjsonFormatter",
            "fmt": "{asctime}{levelname}{name}{message}",
            "style": "{",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
            },
        }
    else:
        formatter = {
            "format": "%(asctime)s %(levelname)s %(name)s "
            "[%(service)s %(request_id)s] %(message)s"
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"main": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": config.level},
        "loggers": {
            # Django's own console handler (DEBUG) would write its lines twice.
            "django": {"handlers": [], "propagate": True},
            # The access log above replaces Django's and the servers' own.
            "django.server": {"level": "WARNING"},
            "django.request": {"level": "ERROR"},
            "daphne.server": {"level": "WARNING"},
            "httpx": {"level": "WARNING"},
        },
    }


def server_logging(config: LoggingConfig) -> dict:
    """Return ``build_logging`` for gunicorn's ``logconfig_dict``: its own
    loggers (and uvicorn's, which use their handlers) write through the
    platform's handler, in the platform's format."""
    logging_dict = build_logging(config)
    own = {"handlers": [], "propagate": True}
    logging_dict["loggers"].update(
        {
            "gunicorn.error": {**own, "level": "INFO"},
            "gunicorn.access": {**own, "level": "WARNING"},
        }
    )
    return logging_dict
