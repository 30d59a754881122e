"""Errors of the platform, and the JSON error body every client sees.

User mistakes in configuration raise ``ConfigError``: ``manage.py`` prints its
message and exits, with no traceback. Errors a client causes become
``APIError`` and are answered with the JSON error of DESIGN.md::

    raise APIError("UNKNOWN_FIELD", 400, 'Unknown field "nope" in where')
    # -> {"statusCode": 400, "code": "UNKNOWN_FIELD", "error": "Bad Request",
    #     "message": "Unknown field \"nope\" in where"}
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from http import HTTPStatus

# Stable codes of the JSON error body; clients match on these strings.
NOT_FOUND = "NOT_FOUND"
BAD_REQUEST = "BAD_REQUEST"
FORBIDDEN = "FORBIDDEN"
UNAUTHORIZED = "UNAUTHORIZED"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
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
