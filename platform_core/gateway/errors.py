"""JSON error responses for Django and DRF, in the shape of DESIGN.md.

Service URLconfs and the platform URLconf use the handlers below; DRF uses
``exception_handler``::

    REST_FRAMEWORK = {"EXCEPTION_HANDLER":
                      "platform_core.gateway.errors.exception_handler"}
"""

from __future__ import annotations

import logging

from django.core.exceptions import SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse

from platform_core import exceptions as codes
from platform_core.exceptions import APIError, error_body

logger = logging.getLogger("joule.errors")

_CODES = {
    400: codes.BAD_REQUEST,
    401: codes.UNAUTHORIZED,
    403: codes.FORBIDDEN,
    404: codes.NOT_FOUND,
    405: codes.METHOD_NOT_ALLOWED,
    406: codes.NOT_ACCEPTABLE,
    413: codes.PAYLOAD_TOO_LARGE,
    415: codes.UNSUPPORTED_MEDIA_TYPE,
    500: codes.INTERNAL_ERROR,
    502: codes.BAD_GATEWAY,
    503: codes.SERVICE_UNAVAILABLE,
    504: codes.GATEWAY_TIMEOUT,
}


def error_response(status: int, message: str, code: str | None = None) -> JsonResponse:
    """Return the JSON error response for ``status``."""
    code = code or _CODES.get(status, codes.BAD_REQUEST)
    return JsonResponse(error_body(status, code, message), status=status)


def bad_request(request, exception=None):
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
    if isinstance(exception, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", exception)
        return error_response(503, "The database is unavailable; retry later")
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
        _CODES.get(response.status_code, codes.BAD_REQUEST)
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
