"""The registry of entity event handlers: ``<service>.<entity>.saved|deleted``.

Entities publish after each committed write; handlers register explicitly
(the platform's own in ``PlatformCoreConfig.ready()``, a project's with
``@on``)::

    events.register("products.product.saved", reindex)
    publish("products.product.saved", {"id": 1, ...})
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("joule.events")

Handler = Callable[[str, dict], Any]


class EventRegistry:
    """Handlers by event name (``*`` receives every event)."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def register(self, event: str, handler: Handler) -> Handler:
        """Call ``handler(event, row)`` for each ``event`` published."""
        self._handlers[event].append(handler)
        return handler

    def is_registered(self, event: str, handler: Handler) -> bool:
        """Return whether ``handler`` is called for ``event``."""
        return handler in self._handlers.get(event, ())

    def unregister(self, event: str, handler: Handler) -> None:
        """Stop calling ``handler`` for ``event``."""
        self._handlers[event].remove(handler)

    def publish(self, event: str, row: dict) -> None:
        """Call every handler of ``event``; a failing handler is logged, not raised."""
        for handler in (*self._handlers.get(event, ()), *self._handlers.get("*", ())):
            try:
                handler(event, row)
            except Exception:
                logger.exception("event handler %r failed for %s", handler, event)


events = EventRegistry()
publish = events.publish


def on(event: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as a handler of ``event``."""
    return lambda handler: events.register(event, handler)


def publishes(service_id: str) -> bool:
    """Return whether db service ``service_id`` publishes events (``[db] events``)."""
    from platform_core.registry.services import services

    if not services.is_registered(service_id):
        return True
    spec = services.get(service_id)
    return spec.options.events if spec.kind == "db" else True
