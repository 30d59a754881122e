"""The registry of running services and the prefix table that routes to them.

Filled from the configuration in ``PlatformCoreConfig.ready()``. ``match``
is the one routing decision of the platform, used by the ASGI router, the
Django routing middleware and the in-process transport::

    services.register(spec)
    services.match("/orders/items/1")  # Route(spec=<orders>, prefix="/orders")
    services.match("/")                # the entrypoint, prefix ""
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from platform_core.config.services import COMPOSED_PATHS, RESERVED_PREFIXES
from platform_core.config.types import ServiceSpec
from platform_core.exceptions import (
    AlreadyRegistered,
    ServiceNotFound,
    did_you_mean,
)

# An in-process caller (mesh, tests) may pin the Route; clients cannot set
# this WSGI environ key or ASGI scope key.
ROUTE_KEY = "joule.route"


@dataclass(frozen=True)
class Route:
    """A request's service and the part of the path it is mounted at."""

    spec: ServiceSpec
    prefix: str

    @property
    def extra(self) -> bool:
        """Return whether this is one of the service's extra prefixes (upstreams)."""
        return self.prefix not in ("", self.spec.prefix)


class ServiceRegistry:
    """Services by id, and their prefixes longest first."""

    def __init__(self) -> None:
        self._services: dict[str, ServiceSpec] = {}
        self._prefixes: list[tuple[str, ServiceSpec]] = []
        self.entrypoint: ServiceSpec | None = None

    def register(self, spec: ServiceSpec, entrypoint: bool = False) -> ServiceSpec:
        """Register ``spec``; raise AlreadyRegistered if its id or prefix is taken.

        Its kind's extra prefixes (a gateway's upstreams) are routed to it too.
        """
        if spec.id in self._services:
            raise AlreadyRegistered(f"The service '{spec.id}' is already registered.")
        prefixes = spec.prefixes
        for prefix, other in self._prefixes:
            if prefix in prefixes:
                raise AlreadyRegistered(
                    f"The prefix '{prefix}' is already used by "
                    f"the service '{other.id}'."
                )
        self._services[spec.id] = spec
        self._prefixes.extend((prefix, spec) for prefix in prefixes)
        self._prefixes.sort(key=lambda item: len(item[0]), reverse=True)
        if entrypoint:
            self.entrypoint = spec
        return spec

    def unregister(self, service_id: str) -> None:
        """Unregister a service; raise NotRegistered if it is unknown."""
        spec = self.get(service_id)
        del self._services[service_id]
        self._prefixes = [(p, s) for p, s in self._prefixes if s is not spec]
        if self.entrypoint is spec:
            self.entrypoint = None

    def is_registered(self, service_id: str) -> bool:
        """Return whether a service ``service_id`` is registered."""
        return service_id in self._services

    def get(self, service_id: str) -> ServiceSpec:
        """Return service ``service_id``; raise ServiceNotFound if unknown."""
        try:
            return self._services[service_id]
        except KeyError:
            ids = list(self._services)
            raise ServiceNotFound(
                f"No service '{service_id}'. Services: {', '.join(ids) or 'none'}."
                + did_you_mean(service_id, ids)
            ) from None

    def __iter__(self) -> Iterator[ServiceSpec]:
        return iter(self._services.values())

    def __len__(self) -> int:
        return len(self._services)

    def clear(self) -> None:
        """Unregister every service."""
        self.__init__()

    def match(self, path: str) -> Route | None:
        """Return the route of ``path``, or None for the platform's own paths.

        The longest matching prefix wins; a path no prefix matches goes to
        the entrypoint (prefix ""), unless it is one of the platform's.
        """
        for prefix, spec in self._prefixes:
            rest = path[len(prefix) :]
            if path.startswith(prefix) and rest[:1] in ("", "/"):
                return Route(spec, prefix)
        if self.entrypoint is None or is_platform_path(path):
            return None
        return Route(self.entrypoint, "")

    def route_to(self, service_id: str) -> Route:
        """Return the route of service ``service_id`` at its own prefix."""
        spec = self.get(service_id)
        return Route(spec, spec.prefix)


def is_platform_path(path: str) -> bool:
    """Return whether the platform itself answers ``path``.

    That is everything under its reserved prefixes, and the composed API
    (``/openapi.json``, ``/docs``, ``/graphql``, ``/graphiql``, with or
    without a final slash), which the entrypoint therefore never sees.
    """
    if path.rstrip("/") in COMPOSED_PATHS:
        return True
    return any(path == p or path.startswith(p + "/") for p in RESERVED_PREFIXES)


services = ServiceRegistry()
register = services.register
