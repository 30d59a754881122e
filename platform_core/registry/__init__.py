"""The registries filled at start-up: running services and service kinds.

Lower layers look services and kinds up here; higher layers fill them in
``PlatformCoreConfig.ready()``::

    from platform_core.registry import kinds, services
    services.match("/orders/items/1")    # Route(spec=<orders>, prefix="/orders")
    kinds.get(spec.kind).check_ready(spec)
"""

from __future__ import annotations

from platform_core.registry.kinds import Kind, KindRegistry, import_optional, kinds
from platform_core.registry.services import (
    ROUTE_KEY,
    Route,
    ServiceRegistry,
    is_platform_path,
    register,
    services,
)

__all__ = [
    "ROUTE_KEY",
    "Kind",
    "KindRegistry",
    "Route",
    "ServiceRegistry",
    "import_optional",
    "is_platform_path",
    "kinds",
    "register",
    "services",
]
