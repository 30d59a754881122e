"""Entity events on the Channels layer: one group per event name, one hub per loop.

Each event is sent to the group ``joule.<service>.<entity>.<saved|deleted>``
as a ``joule.event`` message whose row is JSON-safe (the REST API's form),
so it crosses processes on channels-redis as it does in memory. Consumers
(GraphQL subscriptions) join the groups they need::

    await channel_layer.group_add(group_name("products.product.saved"), name)
    # then, per write:  {"type": "joule.event", "event": ..., "id": ..., "row": {...}}

The in-memory layer only reaches consumers on the event loop that serves
them, so its messages are sent on that loop (``attach``); with no consumer
in the process there is nobody to tell. Other layers are sent from the
serving loop when there is one, else from a loop thread of their own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from typing import Any

import orjson

from platform_core.entities.values import json_default

logger = logging.getLogger("joule.events")
MESSAGE_TYPE = "joule.event"


def group_name(event: str) -> str:
    """Return the channel-layer group of ``event`` (``joule.<event>``)."""
    return f"joule.{event}"


def jsonable(row: dict) -> dict:
    """Return ``row`` with JSON values only (dates as ISO text, decimals as text)."""
    return orjson.loads(orjson.dumps(row, default=json_default))


class LayerPublisher:
    """The handler of every event that sends it on the channel layer."""

    def __init__(self, alias: str = "default") -> None:
        self.alias = alias
        self._loop: asyncio.AbstractEventLoop | None = None
        self._own: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Send from ``loop`` from now on (the loop serving the consumers)."""
        self._loop = loop

    def __call__(self, event: str, row: dict) -> None:
        """Send ``event`` with ``row`` to its group, without waiting."""
        from channels.layers import InMemoryChannelLayer, get_channel_layer

        layer = get_channel_layer(self.alias)
        if layer is None:
            return
        loop = self._serving_loop()
        if loop is None:
            if isinstance(layer, InMemoryChannelLayer):
                return
            loop = self._own_loop()
        message = {
            "type": MESSAGE_TYPE,
            "event": event,
            "id": uuid.uuid4().hex,
            "row": jsonable(row),
        }
        sent = asyncio.run_coroutine_threadsafe(
            layer.group_send(group_name(event), message), loop
        )
        sent.add_done_callback(_log_failure)

    def _serving_loop(self) -> asyncio.AbstractEventLoop | None:
        loop = self._loop
        if loop is None or loop.is_closed() or not loop.is_running():
            return None
        return loop

    def _own_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._own is None:
                self._own = asyncio.new_event_loop()
                threading.Thread(
                    target=self._own.run_forever, name="joule-events", daemon=True
                ).start()
            return self._own


def _log_failure(future: Any) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error(
            "could not send an event on the channel layer: %s", future.exception()
        )


publisher = LayerPublisher()


class EventHub:
    """One channel-layer member per event loop, fanning events out locally.

    Instead of every websocket joining the groups itself (one copy and one
    layer receive per subscriber and event), the hub joins each group once
    and hands every message to the local subscribers' queues. A subscriber
    whose queue is full is too slow to follow: ``overflow`` is called for it
    (it is disconnected and logged), never silently skipped::

        hub = EventHub.of_loop()
        await hub.join("joule.products.product.saved", subscriber)
        # subscriber.queue gets each message; subscriber.overflow() if full
    """

    _hubs: dict = {}

    def __init__(self, alias: str = "default") -> None:
        from channels.layers import get_channel_layer

        self.layer = get_channel_layer(alias)
        self.channel: str | None = None
        self.members: dict[str, set] = {}
        self._receiver: asyncio.Task | None = None

    @classmethod
    def of_loop(cls) -> EventHub:
        """Return the hub of the running event loop (made on first use)."""
        loop = asyncio.get_running_loop()
        hub = cls._hubs.get(loop)
        if hub is None:
            for stale in [other for other in cls._hubs if other.is_closed()]:
                del cls._hubs[stale]
            hub = cls._hubs[loop] = cls()
        return hub

    async def join(self, group: str, subscriber) -> None:
        """Deliver ``group``'s messages to ``subscriber.queue`` from now on."""
        if self.channel is None:
            self.channel = await self.layer.new_channel("joule-hub.")
            self._receiver = asyncio.ensure_future(self._receive())
        members = self.members.setdefault(group, set())
        if not members:
            await self.layer.group_add(group, self.channel)
        members.add(subscriber)

    async def leave(self, group: str, subscriber) -> None:
        """Stop delivering ``group`` to ``subscriber``."""
        members = self.members.get(group)
        if members is None or subscriber not in members:
            return
        members.discard(subscriber)
        if not members:
            del self.members[group]
            await self.layer.group_discard(group, self.channel)

    async def _receive(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("event hub: receiving from the channel layer failed")
                await asyncio.sleep(1)
                continue
            group = group_name(message.get("event", ""))
            for subscriber in list(self.members.get(group, ())):
                try:
                    subscriber.queue.put_nowait(message)
                except asyncio.QueueFull:
                    subscriber.overflow()
