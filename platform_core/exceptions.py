"""Errors of the platform, and the JSON error body every client sees.

User mistakes in configuration raise ``ConfigError``: ``manage.py`` prints its
message and exits, with no traceback. Errors a client causes become
``APIError`` and are answered with the JSON error of DESIGN.md, by Django's
error handlers, DRF's exception handler and the middleware below alike::

    raise APIError("UNKNOWN_FIELD", 400, 'Unknown field "nope" in where')
    # -> {"statusCode": 400, "code": "UNKNOWN_FIELD", "error": "Bad Request",
    #     "message": "Unknown field \"nope\" in where"}

    REST_FRAMEWORK = {"EXCEPTION_HANDLER":
                      "platform_core.exceptions.exception_handler"}
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus

from django.core.exceptions import SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse

# Stable codes of the JSON error body; clients match on these strings.
NOT_FOUND = "NOT_FOUND"
BAD_REQUEST = "BAD_REQUEST"
FORBIDDEN = "FORBIDDEN"
UNAUTHORIZED = "UNAUTHORIZED"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
BAD_GATEWAY = "BAD_GATEWAY"
GATEWAY_TIMEOUT = "GATEWAY_TIMEOUT"
INTERNAL_ERROR = "INTERNAL_ERROR"
UNKNOWN_FIELD = "UNKNOWN_FIELD"
UNKNOWN_OPERATOR = "UNKNOWN_OPERATOR"
UNKNOWN_PARAMETER = "UNKNOWN_PARAMETER"
INVALID_VALUE = "INVALID_VALUE"
INVALID_BODY = "INVALID_BODY"
INVALID_LIMIT = "INVALID_LIMIT"
CONSTRAINT_VIOLATION = "CONSTRAINT_VIOLATION"
NOT_NULL_VIOLATION = "NOT_NULL_VIOLATION"
VALUE_TOO_LONG = "VALUE_TOO_LONG"
READ_ONLY = "READ_ONLY"
# A where too large to run: too many conditions or values (a cap, or the engine's).
QUERY_TOO_LARGE = "QUERY_TOO_LARGE"
# The reverse proxy refused the request target or its headers.
INVALID_PATH = "INVALID_PATH"
INVALID_HEADERS = "INVALID_HEADERS"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the nearest choice, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def error_body(status: int, code: str, message: str) -> dict:
    """Return the JSON error body for ``status``."""
    return {
        "statusCode": status,
        "code": code,
        "error": HTTPStatus(status).phrase,
        "message": message,
    }


class JouleError(Exception):
    """Base class of the platform's own errors."""


class ConfigError(JouleError):
    """A configuration file or value is wrong; the message says how to fix it."""


class AlreadyRegistered(JouleError):
    """A registry already holds something under that name."""


class NotRegistered(JouleError):
    """A registry holds nothing under that name."""


class ServiceNotFound(NotRegistered, LookupError):
    """No service has that id."""


class MeshError(JouleError):
    """A mesh request names a host the mesh cannot reach."""


def bad_request(code: str, message: str) -> APIError:
    """Return a 400 APIError with ``code``."""
    return APIError(code, 400, message)


class APIError(JouleError):
    """An error answered to the client as the JSON error body."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message

    def as_body(self) -> dict:
        """Return the JSON error body of this error."""
        return error_body(self.status, self.code, self.message)

    @property
    def extensions(self) -> dict:
        """Return what GraphQL errors carry besides the message."""
        return {"code": self.code, "statusCode": self.status}


# JSON error responses of Django and DRF.

logger = logging.getLogger("joule.errors")

_CODES = {
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    406: NOT_ACCEPTABLE,
    408: REQUEST_TIMEOUT,
    413: PAYLOAD_TOO_LARGE,
    415: UNSUPPORTED_MEDIA_TYPE,
    500: INTERNAL_ERROR,
    502: BAD_GATEWAY,
    503: SERVICE_UNAVAILABLE,
    504: GATEWAY_TIMEOUT,
}


def error_response(status: int, message: str, code: str | None = None) -> JsonResponse:
    """Return the JSON error response for ``status``."""
    code = code or _CODES.get(status, BAD_REQUEST)
    return JsonResponse(error_body(status, code, message), status=status)


def rejected_request(request, exception=None):
    """Answer 400 for a request Django rejected (bad host, bad body)."""
    return error_response(400, "Bad request")


def permission_denied(request, exception=None):
    """Answer 403."""
    return error_response(403, str(exception) if exception else "Forbidden")


def csrf_failure(request, reason=""):
    """Answer 403 when a form POST lacks a valid CSRF token."""
    return error_response(403, f"CSRF check failed: {reason}")


def page_not_found(request, exception=None):
    """Answer 404 naming the path."""
    return error_response(404, f"No route for {request.method} {request.path}")


def outside_django(request, *args, **kwargs):
    """Answer 502 for a path only the ASGI application serves (an upstream)."""
    return error_response(
        502,
        f"{request.path} is proxied by the ASGI application only "
        "(platform_core.asgi:application), not over WSGI",
    )


def no_route(request, *args, **kwargs):
    """Answer 404 for a path no pattern matches (last pattern of URLconfs)."""
    return page_not_found(request)


class JsonErrorMiddleware:
    """Answer client errors and a lost database, raised by views, as JSON.

    Django shows HTML debug pages for these when DEBUG is on; clients of the
    platform get the JSON error body in every mode.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        """Return the JSON error for client errors; let others propagate."""
        return exception_response(exception)


def exception_response(exception: Exception) -> JsonResponse | None:
    """Return the JSON error of a client error or a lost database, else None."""
    if isinstance(exception, Http404):
        return error_response(404, str(exception) or "Not found")
    if isinstance(exception, SuspiciousOperation):
        return error_response(400, "Bad request")
    if isinstance(exception, DatabaseError):
        error = database_error(exception)
        return JsonResponse(error.as_body(), status=error.status) if error else None
    return None


# Set at start-up to entities.errors.database_error (apps.plug_in_hooks): the
# table of what each engine's errors mean lives there, above this layer.
_database_error: Callable[[Exception], APIError | None] | None = None


def set_database_error_translator(
    translate: Callable[[Exception], APIError | None] | None,
) -> None:
    """Answer database errors with ``translate``.

    ``translate(exc)`` returns the APIError to answer, or None for a 500.
    Without one, only a lost database is answered (503).
    """
    global _database_error
    _database_error = translate


def database_error(exception: Exception) -> APIError | None:
    """Return the APIError answering a database error, or None (a 500)."""
    if _database_error is not None:
        return _database_error(exception)
    if isinstance(exception, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", exception)
        return APIError(
            SERVICE_UNAVAILABLE, 503, "The database is unavailable; retry later"
        )
    return None


def server_error(request):
    """Answer 500 with no detail; the traceback goes to the log only."""
    return error_response(500, "Internal server error")


def exception_handler(exc, context):
    """DRF exception handler answering with the JSON error body."""
    from rest_framework.views import exception_handler as drf_handler

    if isinstance(exc, APIError):
        return JsonResponse(exc.as_body(), status=exc.status)
    response = drf_handler(exc, context)
    if response is None:
        return None
    detail = response.data.get("detail") if isinstance(response.data, dict) else None
    message = str(detail) if detail is not None else _flatten(response.data)
    code = getattr(detail, "code", None)
    response.data = error_body(
        response.status_code,
        _CODES.get(response.status_code, BAD_REQUEST)
        if code in (None, "invalid", "error")
        else str(code).upper(),
        message,
    )
    return response


def _flatten(data) -> str:
    if isinstance(data, dict):
        return "; ".join(f"{key}: {_flatten(value)}" for key, value in data.items())
    if isinstance(data, list):
        return ", ".join(_flatten(item) for item in data)
    return str(data)
