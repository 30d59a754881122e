"""The composed API follows schema changes without restart; subscriptions too."""

from __future__ import annotations

import json

import httpx
import pytest
from django.db import connections
from websockets.sync.client import connect

from platform_core.db.catalog import forget_schema
from platform_core.db.connections import alias_for
from platform_core.testing import live_server, platform_client

pytestmark = pytest.mark.django_db(transaction=True)
ACCEPT_JSON = {"Accept": "application/json"}
PROTOCOL = "graphql-transport-ws"


@pytest.fixture(params=["sqlite"])
def engine(request):
    return request.param


def execute(spec, *statements: str) -> None:
    connection = connections[alias_for(spec)]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


@pytest.fixture
def shop(db_service):
    execute(db_service, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    forget_schema(db_service.id)
    yield db_service
    forget_schema(db_service.id)


def openapi(client) -> dict:
    response = client.get("/openapi.json", headers=ACCEPT_JSON)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_changed_table_shows_in_the_composed_api_without_restart(shop):
    with platform_client() as client:
        before = openapi(client)
        note = before["components"]["schemas"]["ShopNote"]
        assert set(note["properties"]) == {"id", "body"}
        assert "/shop/notes/{id}" in before["paths"]
        assert "/products/products" in before["paths"]
        execute(
            shop,
            "ALTER TABLE notes ADD COLUMN title TEXT",
            "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT)",
        )
        assert openapi(client) == before  # kept until the schema is forgotten
        forget_schema(shop.id)  # what a new migration does
        after = openapi(client)
        note = after["components"]["schemas"]["ShopNote"]
        assert set(note["properties"]) == {"id", "body", "title"}
        assert "/shop/tags" in after["paths"]
        answer = client.post(
            "/graphql", json={"query": "{ notes { title } countTags { total } }"}
        )
        assert answer.json() == {"data": {"notes": [], "countTags": {"total": 0}}}


def test_a_subscription_on_the_composed_endpoint_receives_events(shop):
    with (
        live_server() as url,
        connect(url.replace("http", "ws") + "/graphql", subprotocols=[PROTOCOL]) as ws,
    ):
        ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "connection_ack"}
        query = "subscription { noteSaved { id body } }"
        ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}})
        )
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}
        created = httpx.post(f"{url}/shop/notes", json={"body": "hello"}, timeout=10)
        assert created.status_code == 201, created.text
        message = json.loads(ws.recv(timeout=10))
        assert message == {
            "id": "1",
            "type": "next",
            "payload": {
                "data": {"noteSaved": {"id": created.json()["id"], "body": "hello"}}
            },
        }
        # The same socket answers queries. (Only the shop's database is used
        # here: channels' shared sync thread would keep a connection to the
        # test database open for later tests.)
        ws.send(
            json.dumps(
                {
                    "id": "2",
                    "type": "subscribe",
                    "payload": {"query": "{ countNotes { total } }"},
                }
            )
        )
        answer = json.loads(ws.recv(timeout=10))
        assert answer["payload"] == {"data": {"countNotes": {"total": 1}}}
