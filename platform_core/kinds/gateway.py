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

from dataclasses import dataclass
from typing import Any

from platform_core import naming
from platform_core.config.reader import TableReader
from platform_core.exceptions import ConfigError
from platform_core.kinds.base import Kind


@dataclass(frozen=True)
class Upstream:
    """An external HTTP service proxied under ``prefix``."""

    # prefix: where the upstream is mounted, like a service prefix.
    prefix: str
    # url: the upstream's base URL; requests go to url + the path below prefix.
    url: str
    # openapi: its OpenAPI document, merged into /openapi.json (None: not merged).
    openapi: str | None = None
    # timeout: seconds the proxy waits to connect and for each read and write.
    timeout: float = 30.0

    @property
    def openapi_url(self) -> str | None:
        """Return the absolute URL of the OpenAPI document, or None."""
        if self.openapi is None or "://" in self.openapi:
            return self.openapi
        return self.url.rstrip("/") + self.openapi

    @property
    def name(self) -> str:
        """Return its name in composed documents: ``/ext/v1`` -> ``ext-v1``."""
        return "-".join(naming.words(self.prefix))


@dataclass(frozen=True)
class GatewayOptions:
    """The ``gateway`` kind's keys of service.toml."""

    upstreams: tuple[Upstream, ...] = ()


def _upstream(table: TableReader) -> Upstream:
    """Read one ``[[upstreams]]`` table."""
    from platform_core.config.loader import check_prefix

    prefix = table.get("prefix", str)
    check_prefix(prefix, table.where("prefix"))
    url = table.get("url", str)
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{table.where('url')}: {url!r} must start with http:// or https://"
        )
    openapi = table.get("openapi", str, None)
    if openapi is not None and not openapi.startswith(("/", "http://", "https://")):
        raise ConfigError(
            f"{table.where('openapi')}: {openapi!r} must be a path under url "
            "(like '/openapi.json') or an http(s) URL"
        )
    timeout = float(table.get("timeout", (int, float), 30.0))
    if timeout <= 0:
        raise ConfigError(f"{table.where('timeout')}: must be above 0 seconds")
    table.finish()
    return Upstream(prefix, url, openapi, timeout)


class GatewayKind(Kind):
    """One OpenAPI document and GraphQL schema over all services."""

    name = "gateway"
    description = "composes services and external upstreams"

    def read_options(self, reader: TableReader, service_id: str) -> GatewayOptions:
        """Read ``[[upstreams]]``: prefix, url, optional openapi and timeout."""
        upstreams = tuple(_upstream(table) for table in reader.tables("upstreams"))
        return GatewayOptions(upstreams)

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

    def extra_prefixes(self, spec) -> tuple[str, ...]:
        """Return the upstreams' prefixes."""
        return tuple(upstream.prefix for upstream in spec.options.upstreams)

    def extra_asgi_app(self, spec, prefix: str) -> Any:
        """Return the proxy (HTTP and websockets) of the upstream at ``prefix``."""
        from platform_core.gateway.proxy import upstream_app

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
