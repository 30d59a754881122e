"""ASGI dispatch by service prefix, longest prefix first.

Every connection is first admitted (``admission``: an allowed Host, a body
within the limit; else the JSON 400 or 413 at once, before the body is
read). Services Django serves go to the Django application, which routes
them by its middleware; services served outside Django (their kind returns
an ASGI app) are called directly with ``root_path`` set to their prefix::

    application = PlatformRouter(ProtocolTypeRouter({...}))
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from platform_core.config.types import ServiceSpec
from platform_core.gateway.routing.admission import scope_refusal, send_refusal
from platform_core.gateway.routing.urlconfs import ROUTE_KEY
from platform_core.observability.requests import asgi_request_context
from platform_core.registry import Route, ServiceRegistry, kinds, services

logger = logging.getLogger("joule.router")


class PlatformRouter:
    """Send each connection to the service its path names."""

    def __init__(
        self,
        app: Any,
        registry: ServiceRegistry = services,
        on_startup: Callable[[], None] | None = None,
        on_shutdown: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.registry = registry
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown
        self._mounts: dict[tuple[ServiceSpec, str], Any] = {}

    def mount_for(self, route: Route) -> Any | None:
        """Return the ASGI app serving ``route`` outside Django, or None.

        A service's own prefix is served by its kind's ``asgi_app`` (None:
        Django); an extra prefix (a gateway's upstream) by ``extra_asgi_app``.
        """
        spec = route.spec
        key = (spec, route.prefix if route.extra else spec.prefix)
        if key not in self._mounts:
            kind = kinds.get(spec.kind)
            if route.extra:
                app = kind.extra_asgi_app(spec, route.prefix)
            else:
                app = kind.asgi_app(spec)
            self._mounts[key] = asgi_request_context(app, spec.id) if app else None
        return self._mounts[key]

    def route(self, scope: dict) -> Route | None:
        """Return the route of an HTTP or websocket scope."""
        if ROUTE_KEY in scope:
            return scope[ROUTE_KEY]
        path = scope["path"].removeprefix(scope.get("root_path", ""))
        return self.registry.match(path)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            return await self.lifespan(receive, send)
        refusal = scope_refusal(scope)
        if refusal is not None:
            return await send_refusal(scope, receive, send, refusal)
        route = self.route(scope)
        mount = self.mount_for(route) if route else None
        if mount is None:
            return await self.app(scope, receive, send)
        root_path = scope.get("root_path", "") + route.prefix
        await mount({**scope, "root_path": root_path}, receive, send)

    def close(self) -> None:
        """Release what the wrapped application holds (threads, connections)."""
        close = getattr(self.app, "close", None)
        if close is not None:
            close()

    async def lifespan(self, receive: Callable, send: Callable) -> None:
        """Answer the ASGI lifespan protocol (Django itself does not)."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.on_startup is not None:
                    # Sync work (routes, schemas) in a thread, off the loop.
                    await asyncio.to_thread(self.on_startup)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.on_shutdown is not None:
                    await asyncio.to_thread(self.on_shutdown)
                await asyncio.to_thread(self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return
