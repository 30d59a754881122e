"""Entity events: ``<service>.<entity>.saved|deleted`` after each committed write.

Handlers register explicitly (``registry.events``). Two platform handlers
receive every event: ``events.layer`` sends it to its group on the Channels
layer (GraphQL subscriptions, other processes over Redis) and
``events.webhooks`` POSTs it to the URLs configured for the entity::

    @on("products.product.saved")
    def reindex(event, row): ...

    publish("products.product.saved", {"id": 1, ...})
"""

from __future__ import annotations

from platform_core.registry.events import (
    EventRegistry,
    Handler,
    events,
    on,
    publish,
    publishes,
)

__all__ = ["EventRegistry", "Handler", "events", "on", "publish", "publishes"]
