"""GraphQL over websockets (graphql-transport-ws) on a real server, per engine.

Subscriptions fire for writes from every path (REST, GraphQL over HTTP and
over the socket, the entities API); the protocol's errors close the socket
with its codes.
"""

import json
import time

import httpx
import pytest
from django.db import connections
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from platform_core.entities import entities
from platform_core.graphql.consumers import GraphQLTransportWSConsumer
from platform_core.testing import live_server

KEY = {
    "sqlite": "INTEGER PRIMARY KEY",
    "postgresql": "SERIAL PRIMARY KEY",
    "mariadb": "INTEGER AUTO_INCREMENT PRIMARY KEY",
}
STAMP = {
    "sqlite": "TIMESTAMP",
    "postgresql": "TIMESTAMP WITH TIME ZONE",
    "mariadb": "DATETIME(6)",
}
SCHEMA = """
CREATE TABLE owners (id {key}, name VARCHAR(50) NOT NULL);
CREATE TABLE posts (id {key}, title VARCHAR(50) NOT NULL,
  published_at {stamp} NULL, owner_id INTEGER NULL,
  FOREIGN KEY (owner_id) REFERENCES owners (id));
"""
PROTOCOL = "graphql-transport-ws"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request):
    return request.param


@pytest.fixture
def server(db_service, engine):
    connection = connections[f"joule_{db_service.label}"]
    with connection.cursor() as cursor:
        sql = SCHEMA.format(key=KEY[engine], stamp=STAMP[engine])
        for statement in connection.ops.prepare_sql_script(sql):
            cursor.execute(statement)
        cursor.execute("INSERT INTO owners (name) VALUES ('Ada')")
    connection.close()
    with live_server() as url:
        yield url


class Socket:
    """A graphql-transport-ws client over a real websocket."""

    def __init__(self, url: str, init: bool = True, **kwargs) -> None:
        kwargs.setdefault("subprotocols", [PROTOCOL])
        opened = connect(url.replace("http", "ws") + "/shop/graphql", **kwargs)
        self.ws = opened.__enter__()
        if init:
            self.send({"type": "connection_init", "payload": {}})
            assert self.receive() == {"type": "connection_ack"}

    def send(self, message) -> None:
        self.ws.send(message if isinstance(message, str) else json.dumps(message))

    def receive(self, timeout: float = 10) -> dict:
        return json.loads(self.ws.recv(timeout=timeout))

    def subscribe(self, operation_id: str, query: str, variables=None) -> None:
        payload = {"query": query, "variables": variables or {}}
        self.send({"id": operation_id, "type": "subscribe", "payload": payload})
        # The protocol has no "subscribed" answer; a ping behind the
        # subscribe comes back once the subscribe has been handled.
        self.send({"type": "ping"})
        assert self.receive() == {"type": "pong"}

    def closed_with(self) -> tuple[int, str]:
        with pytest.raises(ConnectionClosed) as closed:
            self.ws.recv(timeout=10)
        return closed.value.rcvd.code, closed.value.rcvd.reason

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def socket(server):
    sock = Socket(server)
    yield sock
    sock.close()


def test_rest_graphql_and_entities_writes_reach_subscribers(server, socket):
    socket.subscribe(
        "s1", "subscription { postSaved { id title publishedAt owner { name } } }"
    )
    socket.subscribe("s2", "subscription { postDeleted { id title } }")
    api = httpx.Client(base_url=server)
    created = api.post(
        "/shop/posts",
        json={"title": "rest", "ownerId": 1, "publishedAt": "2026-01-02T03:04:05Z"},
    )
    assert created.status_code == 201, created.text
    post = created.json()["id"]
    first = socket.receive()
    assert first["id"] == "s1" and first["type"] == "next"
    assert first["payload"].get("data"), first
    saved = first["payload"]["data"]["postSaved"]
    assert saved == {
        "id": post,
        "title": "rest",
        "publishedAt": saved["publishedAt"],
        "owner": {"name": "Ada"},
    }
    assert saved["publishedAt"].startswith("2026-01-02T03:04:05")

    api.patch(f"/shop/posts/{post}", json={"title": "patched"})
    assert socket.receive()["payload"]["data"]["postSaved"]["title"] == "patched"

    mutation = f'mutation {{ savePost(input: {{id: {post}, title: "gql"}}) {{ id }} }}'
    assert api.post("/shop/graphql", json={"query": mutation}).status_code == 200
    assert socket.receive()["payload"]["data"]["postSaved"]["title"] == "gql"

    entities("shop")["post"].insert([{"title": "entities"}])
    event = socket.receive()["payload"]["data"]["postSaved"]
    assert (event["title"], event["owner"]) == ("entities", None)

    assert api.delete(f"/shop/posts/{post}").status_code == 200
    deleted = socket.receive()
    assert deleted == {
        "id": "s2",
        "type": "next",
        "payload": {"data": {"postDeleted": {"id": post, "title": "gql"}}},
    }


def test_mutation_over_the_socket_answers_once_and_fires_events(socket):
    socket.subscribe("watch", "subscription { postSaved { title } }")
    socket.send(
        {
            "id": "m",
            "type": "subscribe",
            "payload": {
                "query": "mutation ($t: String) { savePost(input: {title: $t}) "
                "{ title } }",
                "variables": {"t": "socket"},
            },
        }
    )
    messages = [socket.receive() for _ in range(3)]
    assert {"id": "m", "type": "complete"} in messages
    assert {
        "id": "m",
        "type": "next",
        "payload": {"data": {"savePost": {"title": "socket"}}},
    } in messages
    assert {
        "id": "watch",
        "type": "next",
        "payload": {"data": {"postSaved": {"title": "socket"}}},
    } in messages


def test_complete_stops_a_subscription(server, socket):
    socket.subscribe("a", "subscription { postSaved { title } }")
    socket.subscribe("b", "subscription { other: postSaved { id } }")
    socket.send({"id": "a", "type": "complete"})
    httpx.post(server + "/shop/posts", json={"title": "x"})
    message = socket.receive()
    assert message["id"] == "b"
    socket.send({"type": "ping"})
    assert socket.receive() == {"type": "pong"}  # nothing more for "a"


def test_many_subscribers_get_each_event(server):
    sockets = [Socket(server) for _ in range(5)]
    for sock in sockets:
        sock.subscribe("s", "subscription { postSaved { title owner { name } } }")
    httpx.post(server + "/shop/posts", json={"title": "fan-out", "ownerId": 1})
    for sock in sockets:
        data = sock.receive()["payload"]["data"]["postSaved"]
        assert data == {"title": "fan-out", "owner": {"name": "Ada"}}
        sock.close()


def test_invalid_documents_get_an_error_message(socket):
    socket.send(
        {"id": "v", "type": "subscribe", "payload": {"query": "subscription { nope }"}}
    )
    error = socket.receive()
    assert error["id"] == "v" and error["type"] == "error"
    assert "nope" in error["payload"][0]["message"]
    socket.send({"id": "p", "type": "subscribe", "payload": {"query": "{"}})
    assert socket.receive()["payload"][0]["message"].startswith("Syntax Error")
    socket.send(
        {
            "id": "x",
            "type": "subscribe",
            "payload": {"query": "{ posts(limit: 1000) { id } }"},
        }
    )
    answer = socket.receive()
    assert answer["payload"]["errors"][0]["extensions"] == {
        "code": "INVALID_LIMIT",
        "statusCode": 400,
    }
    assert socket.receive() == {"id": "x", "type": "complete"}


@pytest.mark.parametrize(
    ("messages", "code", "reason"),
    [
        ([{"type": "connection_init"}] * 2, 4429, "Too many initialisation requests"),
        (
            [
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": "{ posts { id } }"},
                }
            ],
            4401,
            "Unauthorized",
        ),
        (["not json"], 4400, "Message is not JSON"),
        ([{"type": "nope"}], 4400, 'Unknown message type "nope"'),
        (
            [
                {"type": "connection_init"},
                {"id": "1", "type": "subscribe", "payload": {}},
            ],
            4400,
            'subscribe needs a payload with a "query" string',
        ),
    ],
)
def test_protocol_errors_close_with_their_code(server, messages, code, reason):
    sock = Socket(server, init=False)
    for message in messages:
        sock.send(message)
    answers = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            answers.append(json.loads(sock.ws.recv(timeout=10)))
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (code, reason)
    assert answers in ([], [{"type": "connection_ack"}])


def test_duplicate_subscription_id_closes_with_4409(socket):
    socket.subscribe("same", "subscription { postSaved { id } }")
    socket.send(
        {
            "id": "same",
            "type": "subscribe",
            "payload": {"query": "subscription { postDeleted { id } }"},
        }
    )
    assert socket.closed_with() == (4409, "Subscriber for same already exists")


def test_wrong_subprotocol_and_missing_init_close_the_socket(server, monkeypatch):
    sock = Socket(server, init=False, subprotocols=["graphql-ws"])
    assert sock.closed_with() == (4406, "Subprotocol not acceptable")
    monkeypatch.setattr(GraphQLTransportWSConsumer, "init_timeout", 0.2)
    started = time.monotonic()
    sock = Socket(server, init=False)
    assert sock.closed_with() == (4408, "Connection initialisation timeout")
    assert time.monotonic() - started < 5
