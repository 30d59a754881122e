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
Sends are queued and batched (``LayerPublisher``), retried while Redis is
away, and counted and logged when they fail for good; hubs join their
groups again by themselves after Redis lost them (``EventHub``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections import deque
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
    """The handler of every event that sends it on the channel layer.

    Events are queued and sent by one sender task at a time: the rows of
    one transaction (a bulk insert of 300) go out as one batch, in order
    within each group and at most ``concurrency`` groups at once, never
    300 sends racing for connections. A layer that cannot be reached
    (Redis restarting) is retried with backoff for ``retry_for`` seconds;
    an event still unsent then, or beyond ``max_pending`` waiting, is
    dropped, counted in ``failed`` and logged::

        publisher("products.product.saved", {"id": 1})
        publisher.sent, publisher.failed   # counts since start
    """

    # concurrency: groups sent to at once (each group's events in order).
    concurrency = 8
    # retry_for: seconds an event is retried while the layer is unreachable.
    retry_for = 30.0
    # max_pending: events waiting to be sent; beyond it the oldest is dropped.
    max_pending = 10_000

    def __init__(self, alias: str = "default") -> None:
        self.alias = alias
        self._loop: asyncio.AbstractEventLoop | None = None
        self._own: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._pending: deque[tuple[str, dict, float]] = deque()
        # _sender: the loop the sender task runs on, while there is one.
        self._sender: asyncio.AbstractEventLoop | None = None
        self._down = False
        self._count_lock = threading.Lock()
        self.sent = 0
        self.failed = 0

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Send from ``loop`` from now on (the loop serving the consumers)."""
        self._loop = loop

    def __call__(self, event: str, row: dict) -> None:
        """Queue ``event`` with ``row`` for its group, without waiting."""
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
        with self._lock:
            if len(self._pending) >= self.max_pending:
                self._pending.popleft()
                self._count_failed(1, f"more than {self.max_pending} events waiting")
            self._pending.append((group_name(event), message, time.monotonic()))
            if self._sender is not None and _alive(self._sender):
                return
            self._sender = loop
        sending = asyncio.run_coroutine_threadsafe(self._send_pending(layer), loop)
        sending.add_done_callback(self._sender_ended)

    async def _send_pending(self, layer) -> None:
        """Send batches of queued events until none is left."""
        while True:
            with self._lock:
                if not self._pending:
                    self._sender = None
                    return
                batch = list(self._pending)
                self._pending.clear()
            await self._send_batch(layer, batch)

    async def _send_batch(self, layer, batch: list) -> None:
        groups: dict[str, list] = {}
        for item in batch:
            groups.setdefault(item[0], []).append(item)
        limit = asyncio.Semaphore(self.concurrency)
        failed_before = self.failed

        async def send_group(items: list) -> None:
            async with limit:
                for group, message, queued in items:
                    await self._send(layer, group, message, queued)

        await asyncio.gather(*(send_group(items) for items in groups.values()))
        if self.failed > failed_before:
            logger.error(
                "%d of %d events could not be sent on the channel layer "
                "(%d since start); their subscribers missed them",
                self.failed - failed_before,
                len(batch),
                self.failed,
            )

    async def _send(self, layer, group: str, message: dict, queued: float) -> None:
        """Send one message; retry while the layer is unreachable, then drop it."""
        delay = 0.05
        while True:
            expired = time.monotonic() - queued > self.retry_for
            if expired and self._down:
                self._count_failed(1)
                return
            try:
                await layer.group_send(group, message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not unreachable(exc) or expired:
                    self._down = unreachable(exc)
                    self._count_failed(1, f"{exc.__class__.__name__}: {exc}")
                    return
                if not self._down:
                    logger.warning(
                        "the channel layer is unreachable (%s); events are "
                        "retried for %g s",
                        exc,
                        self.retry_for,
                    )
                self._down = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if self._down:
                logger.warning("the channel layer is reachable again")
                self._down = False
            self.sent += 1
            return

    def _count_failed(self, count: int, reason: str | None = None) -> None:
        with self._count_lock:
            self.failed += count
        if reason is not None:
            logger.error("event not sent on the channel layer: %s", reason)

    def _sender_ended(self, future: Any) -> None:
        """Let the next event start a sender when this one died."""
        if future.cancelled() or future.exception() is not None:
            with self._lock:
                self._sender = None
                lost = len(self._pending)
                self._pending.clear()
            self._count_failed(lost)
            logger.error(
                "the event sender stopped (%s); %d waiting events dropped",
                "cancelled" if future.cancelled() else future.exception(),
                lost,
            )

    def _serving_loop(self) -> asyncio.AbstractEventLoop | None:
        loop = self._loop
        return loop if loop is not None and _alive(loop) else None

    def _own_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._own is None:
                self._own = asyncio.new_event_loop()
                threading.Thread(
                    target=self._own.run_forever, name="joule-events", daemon=True
                ).start()
            return self._own


def _alive(loop: asyncio.AbstractEventLoop) -> bool:
    return not loop.is_closed() and loop.is_running()


def unreachable(exc: BaseException) -> bool:
    """Return whether ``exc`` says the channel layer cannot be reached now."""
    if isinstance(exc, OSError | TimeoutError):
        return True
    try:
        from redis import exceptions
    except ImportError:  # no Redis client: only the in-memory layer
        return False
    return isinstance(exc, exceptions.ConnectionError | exceptions.TimeoutError)


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

    Memberships live in the layer (Redis), which may lose them: a restart
    empties it, and channels-redis forgets a member after a day. So the hub
    adds its groups again every ``refresh_every`` seconds, and at once,
    retried with backoff, when receiving fails or a join could not reach
    the layer: subscriptions come back by themselves with Redis.
    """

    _hubs: dict = {}
    # refresh_every: seconds between two re-adds of every membership.
    refresh_every = 30.0
    # backoff: the longest pause between attempts while the layer is away.
    backoff = 2.0

    def __init__(self, alias: str = "default") -> None:
        from channels.layers import get_channel_layer

        self.layer = get_channel_layer(alias)
        self.channel: str | None = None
        self.members: dict[str, set] = {}
        self._receiver: asyncio.Task | None = None
        self._keeper: asyncio.Task | None = None
        self._rejoin = asyncio.Event()

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
        """Deliver ``group``'s messages to ``subscriber.queue`` from now on.

        When the layer cannot be reached, the group is joined as soon as it
        can (logged); the subscriber waits for events meanwhile.
        """
        if self.channel is None:
            self.channel = await self.layer.new_channel("joule-hub.")
            self._receiver = asyncio.ensure_future(self._receive())
            self._keeper = asyncio.ensure_future(self._keep())
        members = self.members.setdefault(group, set())
        first = not members
        members.add(subscriber)
        if first:
            try:
                await self.layer.group_add(group, self.channel)
            except Exception as exc:
                logger.warning(
                    "event hub: could not join %s (%s); joining when the "
                    "channel layer answers",
                    group,
                    exc,
                )
                self._rejoin.set()

    async def leave(self, group: str, subscriber) -> None:
        """Stop delivering ``group`` to ``subscriber``."""
        members = self.members.get(group)
        if members is None or subscriber not in members:
            return
        members.discard(subscriber)
        if not members:
            del self.members[group]
            try:
                await self.layer.group_discard(group, self.channel)
            except Exception as exc:  # its messages are ignored, then it expires
                logger.warning("event hub: could not leave %s (%s)", group, exc)

    async def _receive(self) -> None:
        delay = 0.1
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if delay == 0.1:
                    logger.warning(
                        "event hub: receiving from the channel layer failed "
                        "(%s); retrying and joining the groups again",
                        exc,
                    )
                self._rejoin.set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff)
                continue
            delay = 0.1
            self._dispatch(message)

    def _dispatch(self, message: dict) -> None:
        group = group_name(message.get("event", ""))
        for subscriber in list(self.members.get(group, ())):
            try:
                subscriber.queue.put_nowait(message)
            except asyncio.QueueFull:
                subscriber.overflow()

    async def _keep(self) -> None:
        """Add every membership again: now and then, and after a failure."""
        while True:
            try:
                await asyncio.wait_for(self._rejoin.wait(), self.refresh_every)
            except TimeoutError:
                pass
            self._rejoin.clear()
            await self._add_all()

    async def _add_all(self) -> None:
        """Add each group's membership; retry with backoff until the layer answers."""
        delay, failed = 0.1, False
        while True:
            try:
                for group in list(self.members):
                    await self.layer.group_add(group, self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not failed:
                    logger.warning(
                        "event hub: the channel layer is unreachable (%s); "
                        "joining again when it answers",
                        exc,
                    )
                failed = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff)
                continue
            if failed:
                logger.warning("event hub: joined %d group(s) again", len(self.members))
            return
