"""The ``gateway`` kind: composes the services behind one entry point.

Its own ``urls.py`` is served like a ``service``; upstreams are declared now
and proxied by the gateway feature::

    [[upstreams]]
    prefix = "/ext"
    url = "http://127.0.0.1:9999"
"""

from __future__ import annotations

from dataclasses import dataclass

from platform_core import naming
from platform_core.config.reader import TableReader
from platform_core.exceptions import ConfigError
from platform_core.kinds.base import Kind


@dataclass(frozen=True)
class Upstream:
    """An external HTTP service proxied under ``prefix``."""

    prefix: str
    url: str
    openapi: str | None = None


@dataclass(frozen=True)
class GatewayOptions:
    """The ``gateway`` kind's keys of service.toml."""

    upstreams: tuple[Upstream, ...] = ()


class GatewayKind(Kind):
    """One OpenAPI document and GraphQL schema over all services."""

    name = "gateway"
    description = "composes services and external upstreams"

    def read_options(self, reader: TableReader, service_id: str) -> GatewayOptions:
        """Read ``[[upstreams]]``: prefix, url and an optional openapi URL."""
        upstreams = []
        for table in reader.tables("upstreams"):
            prefix = table.get("prefix", str)
            if not naming.PREFIX_RE.match(prefix):
                raise ConfigError(
                    f"{table.where('prefix')}: {prefix!r} is not a path like '/ext'"
                )
            url = table.get("url", str)
            if not url.startswith(("http://", "https://")):
                raise ConfigError(
                    f"{table.where('url')}: {url!r} must start with http:// or https://"
                )
            upstreams.append(Upstream(prefix, url, table.get("openapi", str, None)))
            table.finish()
        return GatewayOptions(tuple(upstreams))
