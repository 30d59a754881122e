"""Streaming HTTP reverse proxy to a fixed upstream (frontends, upstreams).

An ASGI app mounted under a prefix (``root_path``). Bodies stream both
ways, compressed bodies pass through untouched, and every failure is the
platform's JSON error: a refused target or framing 400, an unreachable
upstream 502, an unavailable one 503, a slow one 504::

    proxy = ReverseProxy(FixedUpstream("http://127.0.0.1:3000/app"), timeout=30)
    # PlatformRouter calls it with root_path = the service prefix:
    await proxy(scope, receive, send)

An ``UpstreamSource`` says where requests go; a frontend's source waits for
its Node process and raises APIError(503) while it is down.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import AsyncIterator, Callable

import httpx

from platform_core import exceptions as codes
from platform_core.exceptions import APIError
from platform_core.gateway.proxy.forwarding import (  # noqa: F401
    FixedUpstream,
    Upstream,
    UpstreamSource,
    check_framing,
    header_map,
    request_headers,
    response_headers,
    target_path,
)

logger = logging.getLogger("joule.proxy")
CONNECT_TIMEOUT = 5.0


async def send_error(send: Callable, error: APIError, headers=()) -> None:
    """Send ``error`` as the JSON error response."""
    body = json.dumps(error.as_body()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def upstream_error(exc: httpx.HTTPError, service: str) -> APIError:
    """Return the APIError for a failed upstream exchange (502 or 504)."""
    if isinstance(exc, httpx.TimeoutException):
        return APIError(codes.GATEWAY_TIMEOUT, 504, f"{service} did not answer in time")
    return APIError(codes.BAD_GATEWAY, 502, f"{service} is unreachable")


class ReverseProxy:
    """An ASGI app relaying HTTP requests to one upstream source.

    ``timeout`` bounds each wait on the upstream (connect, each read and
    write) in seconds; ``name`` is used in error messages and logs.
    """

    def __init__(
        self, source: UpstreamSource, timeout: float = 30.0, name: str = "upstream"
    ) -> None:
        self.source = source
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT))
        self.name = name
        self._transports: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def transport(self) -> httpx.AsyncHTTPTransport:
        """Return this event loop's connection pool (connections belong to one loop).

        Requests go to the transport itself, never through an httpx client:
        a client adds headers of its own (Accept-Encoding, User-Agent) and
        keeps one cookie jar for all users, which would send the cookies one
        user's response set with every other user's requests.
        """
        loop = asyncio.get_running_loop()
        if loop not in self._transports:
            self._transports[loop] = httpx.AsyncHTTPTransport(
                trust_env=False,  # no environment settings: the upstream is fixed
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            )
        return self._transports[loop]

    async def aclose(self) -> None:
        """Close this event loop's connection pool."""
        transport = self._transports.pop(asyncio.get_running_loop(), None)
        if transport is not None:
            await transport.aclose()

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            raise ValueError(f"ReverseProxy serves HTTP, not {scope['type']!r}")
        try:
            request = await self.build_request(scope, receive)
            response = await self.transport().handle_async_request(request)
            response.request = request
        except APIError as error:
            return await send_error(send, error)
        except httpx.HTTPError as exc:
            logger.warning("%s: %s failed: %r", self.name, scope["path"], exc)
            return await send_error(send, upstream_error(exc, self.name))
        await self.relay(response, scope, receive, send)

    async def build_request(self, scope: dict, receive: Callable) -> httpx.Request:
        """Return the upstream request; raise APIError for a refused one."""
        headers = header_map(scope.get("headers", ()))
        check_framing(headers)
        path = target_path(scope)
        upstream = await self.source.upstream()
        has_body = b"content-length" in headers or b"transfer-encoding" in headers
        return httpx.Request(
            scope["method"],
            httpx.URL(
                scheme=upstream.scheme,
                host=upstream.host,
                port=upstream.port,
                raw_path=upstream.target(path, scope.get("query_string", b"")),
            ),
            headers=request_headers(scope, upstream),
            content=request_body(receive) if has_body else None,
            extensions={"timeout": self.timeout.as_dict(), "joule_upstream": upstream},
        )

    async def relay(
        self, response: httpx.Response, scope: dict, receive: Callable, send: Callable
    ) -> None:
        """Stream ``response`` to the client; stop when the client goes."""
        upstream = response.request.extensions["joule_upstream"]
        headers = response_headers(
            response.headers.raw, upstream, scope.get("root_path", "")
        )
        streaming = asyncio.ensure_future(self._stream(response, headers, send))
        watching = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait(
                {streaming, watching}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            watching.cancel()
            if not streaming.done():
                streaming.cancel()
            await response.aclose()
        if streaming.done() and not streaming.cancelled():
            streaming.result()

    async def _stream(
        self, response: httpx.Response, headers: list, send: Callable
    ) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": headers,
            }
        )
        try:
            async for chunk in response.aiter_raw():
                await send(
                    {"type": "http.response.body", "body": chunk, "more_body": True}
                )
        except httpx.HTTPError as exc:
            # Headers are gone: only breaking the connection tells the client.
            logger.warning("%s: response cut short: %r", self.name, exc)
            raise
        await send({"type": "http.response.body", "body": b""})


async def request_body(receive: Callable) -> AsyncIterator[bytes]:
    """Yield the request body as the client sends it."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise httpx.ReadError("the client went away mid-body")
        if message.get("body"):
            yield message["body"]
        if not message.get("more_body"):
            return


async def _disconnected(receive: Callable) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
