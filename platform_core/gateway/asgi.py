"""Build the platform's ASGI application: HTTP and websockets, every service.

``platform_core.asgi`` calls this once Django is set up::

    application = build_application()
    # PlatformRouter(ProtocolTypeRouter({"http": Django,
    #                                    "websocket": Channels URLRouter}))
"""

from __future__ import annotations

from typing import Any

from platform_core.kinds import kinds
from platform_core.registry import ServiceRegistry, services


def websocket_urlpatterns(registry: ServiceRegistry = services) -> list:
    """Return every service's websocket patterns nested under its prefix."""
    from channels.routing import URLRouter
    from django.urls import path

    patterns = []
    ordered = sorted(registry, key=lambda spec: len(spec.prefix), reverse=True)
    for spec in ordered:
        own = kinds.get(spec.kind).websocket_urlpatterns(spec)
        if own:
            patterns.append(path(spec.prefix.lstrip("/") + "/", URLRouter(own)))
    entry = registry.entrypoint
    if entry is not None:
        patterns.extend(kinds.get(entry.kind).websocket_urlpatterns(entry))
    return patterns


def build_application() -> Any:
    """Return the ASGI application serving every service."""
    from channels.auth import AuthMiddlewareStack
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.core.asgi import get_asgi_application

    from platform_core.gateway.router import PlatformRouter

    django_app = get_asgi_application()
    return PlatformRouter(
        ProtocolTypeRouter(
            {
                "http": django_app,
                "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns())),
            }
        )
    )
