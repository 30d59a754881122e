"""Real clients on real servers: the npm ``graphql-ws`` client through daphne
(runserver) and uvicorn (gunicorn workers), and events crossing processes on
Redis between two servers sharing PostgreSQL.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from platform_core.testing import project_of, skip_or_fail
from tests.databases import fresh_database
from tests.servers import ROOT, running_server

NODE_CLIENTS = ROOT / "tests" / "node"
SUBSCRIPTION = "subscription { productSaved { sku title category { name } } }"
SERVERS = {
    "daphne": ["manage.py", "runserver", "127.0.0.1:{port}", "--noreload"],
    "uvicorn": [
        "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
        "platform_core.asgi:application", "-b", "127.0.0.1:{port}", "-w", "1",
    ],
}  # fmt: skip


@pytest.fixture(scope="session")
def node_clients() -> Path:
    """The npm clients of tests/node, installed from its lockfile once."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        skip_or_fail("node and npm are needed for the graphql-ws client")
    lock = NODE_CLIENTS / "package-lock.json"
    stamp = NODE_CLIENTS / "node_modules" / ".joule-installed"
    if not stamp.exists() or stamp.read_text() != lock.read_text():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_CLIENTS,
            check=True,
            capture_output=True,
        )
        stamp.write_text(lock.read_text())
    return NODE_CLIENTS


def products_only(folder: Path) -> dict[str, str]:
    """The servers' environment: a project of the products service only."""
    return {"JOULE_ROOT": str(project_of(folder, ROOT / "services", ["products"]))}


@pytest.fixture(scope="module", params=sorted(SERVERS))
def server(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(request.param)
    args = SERVERS[request.param]
    with running_server(request.param, args, workdir, products_only(workdir)) as server:
        yield server


class NodeSubscriber:
    """``node subscribe.mjs``: its JSON lines, read as they come."""

    def __init__(self, folder: Path, url: str, query: str, count: int) -> None:
        self.process = subprocess.Popen(
            ["node", "subscribe.mjs", url, query, str(count)],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def next(self, timeout: float = 15) -> dict:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            self.process.kill()
            pytest.fail(f"no output from the client: {self.process.stderr.read()}")

    def finish(self) -> int:
        return self.process.wait(timeout=15)


def test_graphql_ws_client_receives_events_of_rest_writes(server, node_clients):
    url = server.url.replace("http", "ws") + "/products/graphql"
    subscriber = NodeSubscriber(node_clients, url, SUBSCRIPTION, 2)
    assert subscriber.next() == {"ready": True}
    tag = uuid.uuid4().hex[:8]
    category = server.request("POST", "/products/categories", json={"name": tag})
    assert category.status_code == 201, category.text
    product = server.request(
        "POST",
        "/products/products",
        json={
            "sku": tag,
            "title": "Kettle",
            "price": "20.00",
            "categoryId": category.json()["id"],
        },
    )
    assert product.status_code == 201, product.text
    path = f"/products/products/{product.json()['id']}"
    assert server.request("PATCH", path, json={"title": "Kettle 2"}).is_success
    first, second = subscriber.next(), subscriber.next()
    assert first == {
        "event": {
            "data": {
                "productSaved": {
                    "sku": tag,
                    "title": "Kettle",
                    "category": {"name": tag},
                }
            }
        }
    }
    assert second["event"]["data"]["productSaved"]["title"] == "Kettle 2"
    assert subscriber.finish() == 0


def test_graphql_ws_client_gets_validation_errors(server, node_clients):
    url = server.url.replace("http", "ws") + "/products/graphql"
    subscriber = NodeSubscriber(node_clients, url, "subscription { nope }", 1)
    answer = subscriber.next()
    assert "nope" in answer["error"][0]["message"]
    assert subscriber.finish() == 1


@pytest.fixture
def redis_url():
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        skip_or_fail(f"Redis is not reachable on 127.0.0.1:6379: {exc}")
    return url


def test_a_write_in_one_process_reaches_a_subscriber_of_another(
    redis_url, tmp_path_factory
):
    """Two gunicorn servers share PostgreSQL and Redis (channels-redis)."""
    workdir = tmp_path_factory.mktemp("cross")
    with fresh_database("postgresql", workdir) as database_url:
        env = {
            **products_only(workdir),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "JOULE_CHANNELS_PREFIX": "joule-test-" + uuid.uuid4().hex[:8],
        }
        args = SERVERS["uvicorn"]
        (workdir / "a").mkdir()
        (workdir / "b").mkdir()
        with (
            running_server("first", args, workdir / "a", env) as first,
            running_server("second", args, workdir / "b", env) as second,
        ):
            url = first.url.replace("http", "ws") + "/products/graphql"
            with connect(url, subprotocols=["graphql-transport-ws"]) as ws:
                ws.send(json.dumps({"type": "connection_init"}))
                assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
                ws.send(
                    json.dumps(
                        {
                            "id": "1",
                            "type": "subscribe",
                            "payload": {
                                "query": "subscription { categorySaved { name } }"
                            },
                        }
                    )
                )
                ws.send(json.dumps({"type": "ping"}))
                assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}
                # The example migrations' keys are SQLite's INTEGER PRIMARY
                # KEY, which PostgreSQL does not fill: the client sends one.
                created = second.request(
                    "POST", "/products/categories", json={"id": 7, "name": "Far"}
                )
                assert created.status_code == 201, created.text
                event = json.loads(ws.recv(timeout=15))
    assert event == {
        "id": "1",
        "type": "next",
        "payload": {"data": {"categorySaved": {"name": "Far"}}},
    }


def test_the_server_still_answers_after_the_clients_left(server):
    """The server answers plain HTTP after the websocket clients left."""
    assert httpx.get(server.url + "/_joule/health", timeout=5).status_code == 200
