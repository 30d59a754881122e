"""A gateway's ``[[upstreams]]``: HTTP and websockets proxied under a prefix.

app = upstream_app(Upstream("/ext", "http://127.0.0.1:9999"))
"""

from __future__ import annotations

from collections.abc import Callable

from platform_core.gateway.proxy.forwarding import FixedUpstream
from platform_core.gateway.proxy.http import ReverseProxy
from platform_core.gateway.proxy.websocket import WebSocketProxy


def upstream_app(upstream) -> Callable:
    """Return the ASGI app proxying a gateway's upstream: HTTP and websockets.

    ``upstream`` is a ``config.services.Upstream``; its URL and timeout come
    from the configuration only.
    """
    source = FixedUpstream(upstream.url)
    name = f"The upstream {upstream.prefix}"
    http = ReverseProxy(source, timeout=upstream.timeout, name=name)
    websocket = WebSocketProxy(
        source, open_timeout=min(upstream.timeout, 10.0), name=name
    )

    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http":
            await http(scope, receive, send)
        elif scope["type"] == "websocket":
            await websocket(scope, receive, send)

    return app
