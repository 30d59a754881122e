"""The service mesh: ``http://<id>.internal/<path>`` reaches service ``<id>``.

Requests are served in this process, with no socket. The caller's
``Authorization``, cookies and request id travel with them::

    from platform_core import mesh

    with mesh.client() as http:                     # sync code
        http.get("http://products.internal/items/1").json()
    async with mesh.async_client() as http:         # async code
        await http.get("http://products.internal/items/1")
"""

from __future__ import annotations

from typing import Any

import httpx

from platform_core import naming
from platform_core.exceptions import MeshError
from platform_core.gateway.routing.asgi import platform_application
from platform_core.gateway.routing.inprocess import PlatformTransport
from platform_core.observability.context import REQUEST_ID_HEADER, current
from platform_core.registry import ROUTE_KEY, Route, services


def resolve(url: httpx.URL) -> Route:
    """Return the route of a mesh URL.

    Raise MeshError when the URL is not ``http://<id>.internal/...`` and
    ServiceNotFound (with the nearest id) when no service has that id.
    """
    host = url.host
    if url.scheme != "http" or not host.endswith(naming.MESH_HOST_SUFFIX):
        raise MeshError(
            f"The mesh reaches only http://<service>.internal/ URLs, "
            f"not {url}. Services: {', '.join(s.id for s in services)}."
        )
    return services.route_to(host.removesuffix(naming.MESH_HOST_SUFFIX))


def _prepare(request: httpx.Request) -> Route:
    """Add the caller's forwarded headers and rewrite the path under the prefix."""
    route = resolve(request.url)
    context = current()
    for name, value in context.forwarded.items():
        if name not in request.headers:
            request.headers[name] = value
    if context.request_id and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = context.request_id
    request.url = request.url.copy_with(path=route.prefix + request.url.path)
    return route


class MeshTransport(PlatformTransport):
    """Sync transport: serves mesh URLs in-process."""

    def route(self, request: httpx.Request) -> Route:
        """Return the route of a mesh request, rewriting its path in place."""
        return _prepare(request)


class AsyncMeshTransport(httpx.AsyncBaseTransport):
    """Async transport: serves mesh URLs through the platform's ASGI app."""

    def __init__(self, app: Any = None) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Serve ``request`` through the ASGI application, with no socket."""
        route = _prepare(request)
        if self.app is None:
            self.app = platform_application()
        app = self.app

        async def pinned(scope, receive, send):
            await app({**scope, ROUTE_KEY: route}, receive, send)

        return await httpx.ASGITransport(app=pinned).handle_async_request(request)


def client(**kwargs: Any) -> httpx.Client:
    """Return an httpx client on which ``http://<id>.internal/`` reaches services."""
    return httpx.Client(transport=MeshTransport(), **kwargs)


def async_client(**kwargs: Any) -> httpx.AsyncClient:
    """Return the async form of ``client()``, for async views and consumers."""
    return httpx.AsyncClient(transport=AsyncMeshTransport(), **kwargs)
