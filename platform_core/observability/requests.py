"""Per-request context, ``X-Request-Id`` and the access log, for every path.

Django requests get ``RequestContextMiddleware``; apps mounted outside
Django (wsgi kind) get ``asgi_request_context``::

    MIDDLEWARE = ["platform_core.gateway.routing.urlconfs.ServiceRoutingMiddleware",
                  "platform_core.observability.requests.RequestContextMiddleware"]
    app = asgi_request_context(wsgi_app_as_asgi, "legacy")
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from platform_core.observability.context import REQUEST_ID_HEADER, request_context
from platform_core.observability.logs import log_request


class RequestContextMiddleware:
    """Set the request context, answer with X-Request-Id, log the request."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        route = getattr(request, "joule_route", None)
        service = route.spec.id if route else None
        with request_context(service, request.headers) as context:
            request.id = context.request_id
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = context.request_id
            log_request(request.method, request.path, response.status_code, started)
        return response


def _lower_headers(scope: dict) -> dict[str, str]:
    return {
        k.decode("latin1").lower(): v.decode("latin1")
        for k, v in scope.get("headers", ())
    }


def _with_request_id(scope: dict, request_id: str) -> dict:
    headers = [h for h in scope.get("headers", ()) if h[0].lower() != b"x-request-id"]
    headers.append((b"x-request-id", request_id.encode()))
    return {**scope, "headers": headers}


def asgi_request_context(app: Any, service: str) -> Callable:
    """Wrap an ASGI app with the request context, X-Request-Id and access log."""

    async def wrapped(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            with request_context(service, _lower_headers(scope)) as context:
                scope = _with_request_id(scope, context.request_id)
                return await app(scope, receive, send)
        started = time.perf_counter()
        status = 500
        with request_context(service, _lower_headers(scope)) as context:
            scope = _with_request_id(scope, context.request_id)

            async def send_with_id(message: dict) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    headers = [
                        h
                        for h in message.get("headers", ())
                        if h[0].lower() != REQUEST_ID_HEADER.encode()
                    ]
                    headers.append((b"x-request-id", context.request_id.encode()))
                    message = {**message, "headers": headers}
                await send(message)

            try:
                await app(scope, receive, send_with_id)
            finally:
                log_request(scope["method"], scope["path"], status, started)

    return wrapped


def _environ_headers(environ: dict) -> dict[str, str]:
    return {
        k[5:].replace("_", "-").lower(): v
        for k, v in environ.items()
        if k.startswith("HTTP_")
    }


def wsgi_request_context(app: Callable, service: str) -> Callable:
    """Wrap a WSGI app with the request context, X-Request-Id and access log."""

    def wrapped(environ: dict, start_response: Callable) -> Any:
        started = time.perf_counter()
        with request_context(service, _environ_headers(environ)) as context:
            # The app sees the id the platform uses, generated or not.
            environ = {**environ, "HTTP_X_REQUEST_ID": context.request_id}

            def start_with_id(status: str, headers: list, *args: Any) -> Any:
                headers = [h for h in headers if h[0].lower() != REQUEST_ID_HEADER]
                headers.append(("X-Request-Id", context.request_id))
                log_request(
                    environ["REQUEST_METHOD"],
                    environ.get("SCRIPT_NAME", "") + environ["PATH_INFO"],
                    int(status.split()[0]),
                    started,
                )
                return start_response(status, headers, *args)

            return app(environ, start_with_id)

    return wrapped
