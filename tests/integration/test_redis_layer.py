"""Events on Redis (channels-redis) between two production servers.

A throwaway redis-server on a free port carries the events of two gunicorn
servers sharing a PostgreSQL database: a write on one reaches subscribers
on the other, all the rows of a bulk insert, and after Redis restarts the
subscriptions, old and new, get events again by themselves. Events the
layer cannot take are counted and logged.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from platform_core.events.layer import LayerPublisher
from platform_core.testing import project_of, skip_or_fail
from tests.databases import fresh_database
from tests.servers import ROOT, free_port, running_server

GUNICORN = [
    "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
    "platform_core.asgi:application", "-b", "127.0.0.1:{port}", "-w", "1",
]  # fmt: skip
SUBSCRIPTION = "subscription { categorySaved { name } }"


class ThrowawayRedis:
    """A redis-server of the test's own, without persistence: a restart
    empties it, as a crashed or replaced Redis does."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=1).ping()
                return
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail("the throwaway redis-server did not start")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory) -> Iterator[ThrowawayRedis]:
    if shutil.which("redis-server") is None:
        skip_or_fail("redis-server is needed for a throwaway Redis")
    server = ThrowawayRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def servers(redis_server, tmp_path_factory):
    """Two gunicorn servers of the products service on one PostgreSQL."""
    workdir = tmp_path_factory.mktemp("servers")
    with fresh_database("postgresql", workdir) as database_url:
        env = {
            "JOULE_ROOT": str(project_of(workdir, ROOT / "services", ["products"])),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_server.url,
            "JOULE_CHANNELS_PREFIX": "joule-test-" + uuid.uuid4().hex[:8],
        }
        (workdir / "a").mkdir()
        (workdir / "b").mkdir()
        with (
            running_server("first", GUNICORN, workdir / "a", env) as first,
            running_server("second", GUNICORN, workdir / "b", env) as second,
        ):
            yield first, second


class Subscriber:
    """A graphql-transport-ws client subscribed to ``categorySaved``."""

    def __init__(self, server) -> None:
        url = server.url.replace("http", "ws") + "/products/graphql"
        self.ws = connect(url, subprotocols=["graphql-transport-ws"]).__enter__()
        self.send({"type": "connection_init"})
        assert self.receive()["type"] == "connection_ack"
        self.send({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
        self.send({"type": "ping"})  # answered once the subscribe is handled
        assert self.receive() == {"type": "pong"}

    def send(self, message: dict) -> None:
        self.ws.send(json.dumps(message))

    def receive(self, timeout: float = 10) -> dict:
        return json.loads(self.ws.recv(timeout=timeout))

    def names(self, count: int, timeout: float) -> list[str]:
        """Return the names of the next ``count`` events (fewer past ``timeout``)."""
        deadline, names = time.monotonic() + timeout, []
        while len(names) < count and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                event = self.receive(timeout=max(0.01, deadline - time.monotonic()))
                names.append(event["payload"]["data"]["categorySaved"]["name"])
        return names

    def close(self) -> None:
        self.ws.close()


def create(server, *names: str) -> None:
    rows = [{"name": name} for name in names]
    created = server.request("POST", "/products/categories", json=rows)
    assert created.status_code == 201, created.text


def hub_errors(server) -> list[dict]:
    return [
        record
        for record in server.log_records()
        if "event hub" in str(record.get("message", ""))
        or "TimeoutError" in json.dumps(record)
    ]


def test_a_bulk_insert_of_300_rows_reaches_a_subscriber_of_another_server(
    servers,
):
    first, second = servers
    logged_before = len(hub_errors(first))
    subscriber = Subscriber(first)
    subscribed = time.monotonic()
    try:
        tag = uuid.uuid4().hex[:8]
        names = [f"{tag}-{number}" for number in range(300)]
        create(second, *names)
        received = subscriber.names(300, timeout=30)
    finally:
        subscriber.close()
    assert len(received) == 300
    assert sorted(received) == sorted(names)
    # An idle hub waits in Redis 5 s at a time: no timeout is logged for it.
    time.sleep(max(0.0, 7 - (time.monotonic() - subscribed)))
    assert hub_errors(first)[logged_before:] == []


def test_subscriptions_come_back_after_redis_restarts(servers, redis_server):
    first, second = servers
    old = Subscriber(first)
    new = None
    try:
        create(second, "before-" + uuid.uuid4().hex[:8])
        assert len(old.names(1, timeout=10)) == 1
        redis_server.stop()
        redis_server.start()
        restarted = time.monotonic()
        while not old.names(1, timeout=0.5):  # events before the rejoin are lost
            assert time.monotonic() - restarted < 10, "no event 10 s after the restart"
            create(second, "probe-" + uuid.uuid4().hex[:8])
        with contextlib.suppress(TimeoutError):
            while True:  # the probes still on their way
                old.receive(timeout=1)
        new = Subscriber(first)
        after = "after-" + uuid.uuid4().hex[:8]
        create(second, after)
        assert old.names(1, timeout=5) == [after]
        assert new.names(1, timeout=5) == [after]
    finally:
        old.close()
        if new is not None:
            new.close()


def test_events_the_layer_cannot_take_are_counted_and_logged(settings, caplog):
    settings.CHANNEL_LAYERS = {
        **settings.CHANNEL_LAYERS,
        "nowhere": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"]},
        },
    }
    publisher = LayerPublisher("nowhere")
    publisher.retry_for = 0.5
    caplog.set_level(logging.WARNING, logger="joule.events")
    for number in range(3):
        publisher("shop.item.saved", {"id": number})
    deadline = time.monotonic() + 10
    while publisher.failed < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (publisher.sent, publisher.failed) == (0, 3)
    messages = [record.getMessage() for record in caplog.records]
    assert "the channel layer is unreachable" in messages[0]
    assert any(
        "events could not be sent on the channel layer" in message
        for message in messages
    ), messages
