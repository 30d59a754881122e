"""The ``gateway`` kind: composes the services behind one entry point.

Its own ``urls.py`` is served like a ``service``, next to the composed
OpenAPI document, Swagger UI and GraphQL endpoint (also served at the root
by the platform). Each upstream is reverse-proxied under its own prefix,
and its OpenAPI document, when named, is merged into the composed one::

    [[upstreams]]
    prefix = "/ext"
    url = "http://127.0.0.1:9999"
    openapi = "/openapi.json"     # a path under url, or a full http(s) URL
    timeout = 30                  # seconds the proxy waits (then 504)
"""

from __future__ import annotations

from typing import Any

from platform_core.config.services import read_gateway_options
from platform_core.registry import Kind


class GatewayKind(Kind):
    """One OpenAPI document and GraphQL schema over all services."""

    name = "gateway"
    description = "composes services and external upstreams"
    read_options = staticmethod(read_gateway_options)

    def urlpatterns(self, spec) -> list:
        """Return the service's own urls.py patterns, then the composed endpoints."""
        from platform_core.gateway.views import composed_patterns

        return [*super().urlpatterns(spec), *composed_patterns(spec.prefix)]

    def websocket_urlpatterns(self, spec) -> list:
        """Return the service's own websocket routes, then composed GraphQL."""
        from platform_core.gateway.views import composed_websocket_patterns

        return [
            *super().websocket_urlpatterns(spec),
            *composed_websocket_patterns(),
        ]

    def extra_asgi_app(self, spec, prefix: str) -> Any:
        """Return the proxy (HTTP and websockets) of the upstream at ``prefix``."""
        from platform_core.gateway.proxy.upstreams import upstream_app

        for upstream in spec.options.upstreams:
            if upstream.prefix == prefix:
                return upstream_app(upstream)
        raise LookupError(f"{spec.id}: no upstream at {prefix!r}")

    def links(self, spec) -> dict[str, str]:
        """Return the dashboard links: the composed documents and GraphiQL."""
        return {
            "docs": f"{spec.prefix}/docs",
            "openapi": f"{spec.prefix}/openapi.json",
            "graphiql": f"{spec.prefix}/graphiql",
        }
