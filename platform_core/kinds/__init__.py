"""The five built-in kinds, assembled from the layers below.

Each kind serves a service from its options (``config.services``): a db
service's generated API, a gateway's composition, a frontend's Node process.
The platform registers them on ``registry.kinds`` at start-up::

    register_builtin_kinds()          # in PlatformCoreConfig.ready()
    kinds.get("wsgi").asgi_app(spec)
"""

from __future__ import annotations

from platform_core.kinds.db import DbKind
from platform_core.kinds.frontend import FrontendKind
from platform_core.kinds.gateway import GatewayKind
from platform_core.kinds.service import ServiceKind
from platform_core.kinds.wsgi import WsgiKind
from platform_core.registry import Kind, KindRegistry, kinds

__all__ = ["BUILTIN_KINDS", "register_builtin_kinds"]

BUILTIN_KINDS = (DbKind, ServiceKind, GatewayKind, FrontendKind, WsgiKind)


def register_builtin_kinds(registry: KindRegistry = kinds) -> None:
    """Register the built-in kinds on ``registry`` (those not there yet)."""
    for kind_class in BUILTIN_KINDS:
        kind: Kind = kind_class()
        if not registry.is_registered(kind.name):
            registry.register(kind)
