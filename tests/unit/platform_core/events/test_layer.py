"""The event hub: one channel-layer member per loop, fanning events out."""

import asyncio

import pytest

from platform_core.events.layer import EventHub, group_name


class Subscriber:
    def __init__(self, size: int) -> None:
        self.queue = asyncio.Queue(maxsize=size)
        self.overflowed = 0

    def overflow(self) -> None:
        self.overflowed += 1


async def send(hub: EventHub, event: str, number: int) -> None:
    await hub.layer.group_send(
        group_name(event),
        {"type": "joule.event", "event": event, "id": str(number), "row": {}},
    )


@pytest.mark.asyncio
async def test_the_hub_fans_out_and_reports_subscribers_that_fall_behind():
    hub = EventHub()
    fast, slow, other = Subscriber(100), Subscriber(2), Subscriber(100)
    await hub.join(group_name("shop.post.saved"), fast)
    await hub.join(group_name("shop.post.saved"), slow)
    await hub.join(group_name("shop.post.deleted"), other)
    for number in range(5):
        await send(hub, "shop.post.saved", number)
    for _ in range(50):
        if fast.queue.qsize() == 5:
            break
        await asyncio.sleep(0.01)
    assert [fast.queue.get_nowait()["id"] for _ in range(5)] == list("01234")
    assert slow.queue.qsize() == 2 and slow.overflowed == 3
    assert other.queue.empty()
    await hub.leave(group_name("shop.post.saved"), fast)
    await hub.leave(group_name("shop.post.saved"), slow)
    assert group_name("shop.post.saved") not in hub.members
    hub._receiver.cancel()
