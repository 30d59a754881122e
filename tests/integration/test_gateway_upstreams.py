"""A gateway's [[upstreams]]: a real HTTP server proxied, its OpenAPI merged."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from drf_spectacular.validation import validate_schema

from platform_core.config.services import GatewayOptions, Upstream
from platform_core.config.types import ServiceSpec
from platform_core.gateway.compose import composed_openapi, forget_composition
from platform_core.testing import asgi_client, platform_client, register_temporarily

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
ACCEPT_JSON = {"Accept": "application/json"}
SLOW = 3.0  # seconds the upstream's /slow takes; the upstream timeout is 1 s
DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "ext", "version": "1"},
    "paths": {
        "/items": {
            "get": {
                "operationId": "listItems",
                "responses": {
                    "200": {
                        "description": "items",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Item"},
                                }
                            }
                        },
                    },
                    "default": {"$ref": "#/components/responses/Error"},
                },
            }
        },
        "/items/{id}": {
            "get": {
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "one item",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Item"}
                            }
                        },
                    }
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Item": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "Error": {"type": "object", "properties": {"message": {"type": "string"}}},
        },
        "responses": {
            "Error": {
                "description": "an error",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}
                    }
                },
            }
        },
    },
}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output quiet
        pass

    def answer(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/openapi.json":
            return self.answer(200, DOCUMENT)
        if self.path.startswith("/items"):
            return self.answer(200, [{"id": 1, "path": self.path}])
        if self.path == "/slow":
            time.sleep(SLOW)
            return self.answer(200, {"slow": True})
        self.answer(404, {"message": "not here"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        self.answer(
            200, {"echo": body, "forwarded": self.headers.get("X-Forwarded-Prefix")}
        )


@pytest.fixture(scope="module")
def upstream_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gateway(upstream_url):
    down = f"http://127.0.0.1:{closed_port()}"
    upstreams = (
        Upstream("/ext", upstream_url, "/openapi.json", timeout=1.0),
        Upstream("/down", down, "/openapi.json", timeout=1.0),
        Upstream("/plain", upstream_url),  # no document to merge
    )
    spec = ServiceSpec(
        "gw", "gateway", "/gw", ROOT, "services.gw", GatewayOptions(upstreams)
    )
    with register_temporarily(spec):
        yield spec
    forget_composition()


@pytest.fixture
def client(gateway):
    with asgi_client() as client:
        yield client


def test_requests_under_the_prefix_reach_the_upstream(client):
    answer = client.get("/ext/items?x=1")
    assert answer.status_code == 200
    assert answer.json() == [{"id": 1, "path": "/items?x=1"}]
    echo = client.post("/ext/echo", json={"a": 1})
    assert echo.json() == {"echo": {"a": 1}, "forwarded": "/ext"}
    assert client.get("/plain/items/7").json()[0]["path"] == "/items/7"


def test_upstream_paths_are_merged_with_namespaced_components(client):
    document = client.get("/openapi.json", headers=ACCEPT_JSON).json()
    validate_schema(document)
    assert "/products/products" in document["paths"]
    listing = document["paths"]["/ext/items"]["get"]
    assert listing["operationId"] == "extListItems"
    assert listing["tags"] == ["ext"]
    schema = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["items"] == {"$ref": "#/components/schemas/ExtItem"}
    assert listing["responses"]["default"] == {
        "$ref": "#/components/responses/ExtError"
    }
    error = document["components"]["responses"]["ExtError"]
    assert error["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ExtError"
    }
    item = document["paths"]["/ext/items/{id}"]["get"]
    assert item["operationId"] == "extGetItemsId"  # generated when missing
    assert "ProductsError" in document["components"]["schemas"]


def test_an_upstream_whose_document_is_down_is_named_not_a_500(client):
    response = client.get("/openapi.json", headers=ACCEPT_JSON)
    assert response.status_code == 200
    description = response.json()["info"]["description"]
    assert "upstream /down:" in description and "ConnectError" in description
    assert not any(p.startswith("/down") for p in response.json()["paths"])


def test_a_down_upstream_is_a_json_502(client):
    response = client.get("/down/items")
    assert response.status_code == 502
    assert response.json()["code"] == "BAD_GATEWAY"
    assert response.json()["message"] == "The upstream /down is unreachable"


def test_a_slow_upstream_is_a_json_504(client):
    started = time.monotonic()
    response = client.get("/ext/slow")
    assert response.status_code == 504
    assert response.json()["code"] == "GATEWAY_TIMEOUT"
    assert time.monotonic() - started < SLOW


def test_the_proxy_keeps_its_containment_rules(client):
    response = client.get("/ext/%2e%2e/openapi.json")
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_PATH"


def test_over_wsgi_an_upstream_prefix_is_a_json_502(gateway):
    with platform_client() as client:
        response = client.get("/ext/items")
    assert response.status_code == 502
    assert "ASGI application only" in response.json()["message"]


def test_the_document_is_fetched_again_after_a_failure(gateway, monkeypatch):
    from platform_core.gateway import compose

    first = composed_openapi()
    monkeypatch.setattr(compose, "UPSTREAM_RETRY", 0.0)
    forget_composition()
    second = composed_openapi()
    assert composed_openapi() is not second  # retried at once: expired
    assert "/ext/items" in first["paths"] and "/ext/items" in second["paths"]


@pytest.fixture
def echo_upstream():
    """A real websocket server answering each message with its path and text."""
    from websockets.sync.server import serve

    def echo(websocket):
        for message in websocket:
            websocket.send(f"{websocket.request.path} {message}")

    server = serve(echo, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.socket.getsockname()[1]}"
    server.shutdown()


def test_websockets_reach_an_upstream_through_a_real_server(echo_upstream):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    from platform_core.testing import live_server

    spec = ServiceSpec(
        "gw",
        "gateway",
        "/gw",
        ROOT,
        "services.gw",
        GatewayOptions((Upstream("/wsup", echo_upstream, timeout=2.0),)),
    )
    with register_temporarily(spec), live_server() as url:
        with connect(url.replace("http", "ws") + "/wsup/chat?room=1") as ws:
            ws.send("hello")
            assert ws.recv(timeout=10) == "/chat?room=1 hello"
        with pytest.raises(InvalidStatus) as refused:
            connect(url.replace("http", "ws") + "/wsup/%2e%2e/chat")
        assert refused.value.response.status_code == 400
        assert b"INVALID_PATH" in refused.value.response.body
