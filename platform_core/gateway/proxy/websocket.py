"""Websocket reverse proxy: app sockets and dev-server HMR, to a fixed upstream.

The client's handshake is checked like an HTTP request (path, headers),
then the upstream socket is opened with the client's subprotocols; only
when it opens is the client accepted, with the subprotocol the upstream
chose. Messages (text and binary) and close codes are relayed both ways::

    ws_proxy = WebSocketProxy(FixedUpstream("http://127.0.0.1:3000"), name="app")
    await ws_proxy(scope, receive, send)   # scope["type"] == "websocket"

A refused handshake is answered with the JSON error (400, 502, 503, 504)
when the server supports ``websocket.http.response``, else closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from platform_core import exceptions as codes
from platform_core.exceptions import APIError
from platform_core.gateway.proxy.forwarding import (
    UpstreamSource,
    request_headers,
    target_path,
)

logger = logging.getLogger("joule.proxy")
# Set by the websocket client library itself from its own arguments.
_HANDSHAKE = frozenset({b"host", b"sec-websocket-key", b"sec-websocket-version"})
_HANDSHAKE_PREFIX = b"sec-websocket-"
_RESERVED_CODES = {1004, 1005, 1006, 1015}


def _close_code(code: int | None, default: int = 1000) -> int:
    """Return a close code one side may send on behalf of the other."""
    if code is None or code in _RESERVED_CODES or not 1000 <= code <= 4999:
        return default
    return code


class WebSocketProxy:
    """An ASGI app relaying websocket connections to one upstream source.

    ``open_timeout`` bounds the upstream handshake; ``max_size`` the size
    of one message in bytes.
    """

    def __init__(
        self,
        source: UpstreamSource,
        open_timeout: float = 10.0,
        max_size: int = 16 * 2**20,
        name: str = "upstream",
    ) -> None:
        self.source = source
        self.open_timeout = open_timeout
        self.max_size = max_size
        self.name = name

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "websocket":
            raise ValueError(f"WebSocketProxy serves websockets, not {scope['type']!r}")
        if (await receive())["type"] != "websocket.connect":
            return
        try:
            upstream = await self.open(scope)
        except APIError as error:
            return await reject(scope, send, error)
        async with upstream:
            await send(
                {"type": "websocket.accept", "subprotocol": upstream.subprotocol}
            )
            await relay(upstream, receive, send)

    async def open(self, scope: dict) -> ClientConnection:
        """Open the upstream socket; raise APIError when it cannot be opened."""
        path = target_path(scope)
        upstream = await self.source.upstream()
        scheme = "wss" if upstream.scheme == "https" else "ws"
        target = upstream.target(path, scope.get("query_string", b"")).decode()
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in request_headers(scope, upstream)
            if name not in _HANDSHAKE and not name.startswith(_HANDSHAKE_PREFIX)
        ]
        try:
            return await connect(
                f"{scheme}://{upstream.netloc}{target}",
                subprotocols=scope.get("subprotocols") or None,
                additional_headers=headers,
                user_agent_header=None,
                proxy=None,  # never an environment proxy: the upstream is fixed
                open_timeout=self.open_timeout,
                max_size=self.max_size,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            raise APIError(
                codes.BAD_GATEWAY, 502, f"{self.name} refused the websocket ({status})"
            ) from None
        except TimeoutError:
            raise APIError(
                codes.GATEWAY_TIMEOUT, 504, f"{self.name} did not answer in time"
            ) from None
        except (OSError, InvalidHandshake) as exc:
            logger.warning("%s: websocket to %s failed: %r", self.name, path, exc)
            raise APIError(
                codes.BAD_GATEWAY, 502, f"{self.name} is unreachable"
            ) from None


async def reject(scope: dict, send: Callable, error: APIError) -> None:
    """Refuse the handshake, with the JSON error when the server allows it."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send(
            {"type": "websocket.close", "code": 1011 if error.status >= 500 else 1008}
        )
        return
    body = json.dumps(error.as_body()).encode()
    await send(
        {
            "type": "websocket.http.response.start",
            "status": error.status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "websocket.http.response.body", "body": body})


async def relay(upstream: ClientConnection, receive: Callable, send: Callable) -> None:
    """Relay messages both ways until either side closes."""
    to_upstream = asyncio.ensure_future(_client_to_upstream(upstream, receive))
    to_client = asyncio.ensure_future(_upstream_to_client(upstream, send))
    done, pending = await asyncio.wait(
        {to_upstream, to_client}, return_when=asyncio.FIRST_COMPLETED
    )
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()


async def _client_to_upstream(upstream: ClientConnection, receive: Callable) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            await upstream.close(_close_code(message.get("code"), 1001))
            return
        if message["type"] != "websocket.receive":
            continue
        text = message.get("text")
        try:
            await upstream.send(text if text is not None else message.get("bytes", b""))
        except ConnectionClosed:
            return  # the other task tells the client


async def _upstream_to_client(upstream: ClientConnection, send: Callable) -> None:
    try:
        async for data in upstream:
            key = "text" if isinstance(data, str) else "bytes"
            await send({"type": "websocket.send", key: data})
    except ConnectionClosed:
        pass
    code = _close_code(upstream.close_code, 1011 if upstream.close_code else 1000)
    await send(
        {"type": "websocket.close", "code": code, "reason": upstream.close_reason or ""}
    )
