"""What a request must pass before it is routed: an allowed Host, a body
within the limit.

Both entry points ask here first (the ASGI ``PlatformRouter`` and the WSGI
``PlatformWSGI``), so every route refuses the same requests with the same
JSON error: generated APIs and their fast routes, GraphQL, Django views,
mounted WSGI apps, proxied frontends and ``/_joule/*``. The Host is checked
as Django checks it (``ALLOWED_HOSTS``, DEBUG's loopback defaults when it is
empty; ``[server] allowed_hosts`` in joule.toml); the body limit is Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE``, compared with ``Content-Length`` before a
byte of the body is read::

    refusal = scope_refusal(scope)           # None, or the APIError to answer
    if refusal is not None:
        return await send_refusal(scope, receive, send, refusal)

A call whose route is pinned (the in-process mesh) never came over the
network and is not checked.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from platform_core.exceptions import (
    BAD_REQUEST,
    INVALID_HEADERS,
    PAYLOAD_TOO_LARGE,
    APIError,
)
from platform_core.observability.context import request_context
from platform_core.observability.logs import log_request
from platform_core.registry import ROUTE_KEY

# Django's allowed hosts when DEBUG is on and ALLOWED_HOSTS is empty.
DEBUG_HOSTS = (".localhost", "127.0.0.1", "[::1]")
# Uploads Django streams to disk: only their non-file fields count (Django).
STREAMED_TYPES = ("multipart/form-data",)
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def host_refusal(host: str) -> APIError | None:
    """Return the 400 of a Host outside ``ALLOWED_HOSTS``, else None."""
    message = _host_message(host, tuple(settings.ALLOWED_HOSTS), settings.DEBUG)
    return None if message is None else APIError(BAD_REQUEST, 400, message)


@functools.lru_cache(maxsize=1024)
def _host_message(host: str, allowed: tuple[str, ...], debug: bool) -> str | None:
    domain, _ = split_domain_port(host)
    if domain and validate_host(domain, allowed or (DEBUG_HOSTS if debug else ())):
        return None
    if not domain:
        return (
            f"Invalid Host header {host!r}: the domain name is not valid "
            "according to RFC 1034/1035."
        )
    return (
        f"Invalid Host header {host!r}: this server does not serve {domain!r}. "
        f"Add it to [server] allowed_hosts in joule.toml to serve it."
    )


def body_refusal(content_length: str | None, content_type: str = "") -> APIError | None:
    """Return the 413 of a declared body over the limit, else None.

    A ``multipart/form-data`` body (file uploads) is left to Django, which
    streams its files to disk and counts only the other fields. A
    Content-Length that is not a number is a 400.
    """
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if content_length is None or limit is None:
        return None
    if not content_length.isdigit():
        return APIError(
            INVALID_HEADERS, 400, f"Invalid Content-Length {content_length!r}"
        )
    if int(content_length) <= limit:
        return None
    if content_type.lower().startswith(STREAMED_TYPES):
        return None
    return APIError(PAYLOAD_TOO_LARGE, 413, "The body is too large")


def scope_refusal(scope: dict) -> APIError | None:
    """Return why an HTTP or websocket ``scope`` is refused, or None."""
    if ROUTE_KEY in scope:
        return None
    wanted = _wanted_headers(scope.get("headers", ()))
    host = wanted.get(b"host")
    if settings.USE_X_FORWARDED_HOST and b"x-forwarded-host" in wanted:
        host = wanted[b"x-forwarded-host"]
    if host is None and scope.get("server"):
        host = _server_host(scope)  # HTTP/1.0 without Host, as Django does
    # A scope naming no host at all (a test's communicator) has none to check.
    refusal = host_refusal(host) if host is not None else None
    if refusal is not None or scope["type"] != "http":
        return refusal
    return body_refusal(wanted.get(b"content-length"), wanted.get(b"content-type", ""))


_WANTED = (
    b"host",
    b"x-forwarded-host",
    b"content-length",
    b"content-type",
    b"x-request-id",
)


def _wanted_headers(headers: Iterable[tuple[bytes, bytes]]) -> dict[bytes, str]:
    return {
        name: value.decode("latin1")
        for name, value in headers
        if name in _WANTED  # ASGI header names are lower-case
    }


def _server_host(scope: dict) -> str:
    """Return the host of a request without a Host header (PEP 3333's way)."""
    name, port = scope["server"][0], scope["server"][1]
    if port is None or port == DEFAULT_PORTS.get(scope.get("scheme", "http")):
        return name
    return f"{name}:{port}"


def environ_refusal(environ: dict) -> APIError | None:
    """Return why a WSGI request is refused, or None."""
    if ROUTE_KEY in environ:
        return None
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        host = environ["HTTP_X_FORWARDED_HOST"]
    elif "HTTP_HOST" in environ:
        host = environ["HTTP_HOST"]
    else:
        host = environ.get("SERVER_NAME", "")
        port = str(environ.get("SERVER_PORT", ""))
        if port != ("443" if environ.get("wsgi.url_scheme") == "https" else "80"):
            host = f"{host}:{port}"
    refusal = host_refusal(host)
    if refusal is not None:
        return refusal
    length = environ.get("CONTENT_LENGTH") or None
    return body_refusal(length, environ.get("CONTENT_TYPE", ""))


async def send_refusal(
    scope: dict, receive: Callable, send: Callable, error: APIError
) -> None:
    """Answer ``error`` as the JSON error body, without reading a request body.

    The connection is kept: the server drops the body the client goes on
    sending (closing at once would reset a client still sending it, before
    it reads the answer). A websocket gets the same answer where the server
    can send one (the ``websocket.http.response`` extension), else it is
    closed before being accepted (HTTP 403).
    """
    started = time.perf_counter()
    body = refusal_body(error)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    client_id = _wanted_headers(scope.get("headers", ())).get(b"x-request-id")
    ids = {"x-request-id": client_id} if client_id else {}
    with request_context(None, ids) as context:
        headers.append((b"x-request-id", context.request_id.encode()))
        if scope["type"] == "websocket":
            await _refuse_websocket(scope, receive, send, error.status, headers, body)
        else:
            start = {"type": "http.response.start", "status": error.status}
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        log_request(
            scope.get("method", "GET"), scope.get("path", ""), error.status, started
        )


async def _refuse_websocket(scope, receive, send, status, headers, body) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    if "websocket.http.response" not in (scope.get("extensions") or {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    start = {"type": "websocket.http.response.start", "status": status}
    await send({**start, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": body})


def refusal_body(error: APIError) -> bytes:
    """Return the JSON error body of ``error`` as bytes."""
    return json.dumps(error.as_body()).encode()


def wsgi_refusal(error: APIError, start_response: Callable) -> list[bytes]:
    """Answer ``error`` as the JSON error body to a WSGI server."""
    body = refusal_body(error)
    status = f"{error.status} {error.as_body()['error']}"
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]
