"""channels-redis as the platform uses it: Redis timeouts that fit its reads.

channels-redis blocks in ``BZPOPMIN`` for 5 s per receive, while redis-py
gives every reply 5 s (its default ``socket_timeout``): an idle receiver
then times out every few seconds instead of asking again. Its pool also
refuses a 101st concurrent command ("Too many connections"). This layer
waits longer than the blocking read for a reply, gives up connecting
after ``socket_connect_timeout``, lets commands queue for a connection of
a bounded pool, and gives the platform's event hubs room for bursts::

    CHANNEL_LAYERS = {"default": {
        "BACKEND": "platform_core.events.redis_layer.RedisChannelLayer",
        "CONFIG": {"hosts": ["redis://127.0.0.1:6379/0"], "prefix": "joule"},
    }}
"""

from __future__ import annotations

from typing import Any

from channels_redis.core import RedisChannelLayer as ChannelsRedisLayer
from redis import asyncio as aioredis


class RedisChannelLayer(ChannelsRedisLayer):
    """channels-redis with timeouts and a pool that suit long-lived workers."""

    # brpop_timeout: seconds a receive blocks in Redis before asking again.
    brpop_timeout = 5
    # socket_timeout: seconds a reply may take; above brpop_timeout.
    socket_timeout = 15.0
    # socket_connect_timeout: seconds to connect (Redis down: fail fast).
    socket_connect_timeout = 2.0
    # max_connections: per event loop; past it commands wait pool_timeout
    # seconds for a free connection instead of failing at once.
    max_connections = 50
    pool_timeout = 10.0
    # hub_capacity: messages an event hub's channel holds (bulk writes).
    hub_capacity = 100_000

    def __init__(self, hosts: Any = None, **kwargs: Any) -> None:
        capacities = {"joule-hub.*": self.hub_capacity}
        capacities.update(kwargs.pop("channel_capacity", None) or {})
        super().__init__(hosts=hosts, channel_capacity=capacities, **kwargs)

    def create_pool(self, index: int) -> aioredis.ConnectionPool:
        """Return the bounded, blocking pool of host ``index``.

        A host given as a dict of its own options (sentinels, say) gets
        channels-redis's pool with those options.
        """
        host = dict(self.hosts[index])
        if set(host) != {"address"}:
            return super().create_pool(index)
        return aioredis.BlockingConnectionPool.from_url(
            host["address"],
            socket_timeout=self.socket_timeout,
            socket_connect_timeout=self.socket_connect_timeout,
            max_connections=self.max_connections,
            timeout=self.pool_timeout,
        )
