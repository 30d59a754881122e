"""Service kinds: the registry ``kinds`` and the five built-in kinds.

Look a kind up by the name a service.toml gives; register new ones
explicitly::

    from platform_core.kinds import kinds
    kinds.get("wsgi").asgi_app(spec)
    kinds.register(MyKind())
"""

from __future__ import annotations

from platform_core.kinds.base import Kind, KindRegistry
from platform_core.kinds.db import DbKind
from platform_core.kinds.frontend import FrontendKind
from platform_core.kinds.gateway import GatewayKind
from platform_core.kinds.service import ServiceKind
from platform_core.kinds.wsgi import WsgiKind

__all__ = ["Kind", "KindRegistry", "kinds"]

kinds = KindRegistry()
for _kind in (DbKind(), ServiceKind(), GatewayKind(), FrontendKind(), WsgiKind()):
    kinds.register(_kind)
