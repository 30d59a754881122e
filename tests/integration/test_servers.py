"""Each kind of service answers through a real server: runserver and gunicorn.

Each server runs in its own process on a free loopback port, serving a
project of the example services it needs (none a user added); the tests talk
to it over sockets only (HTTP with httpx, websockets with ``websockets``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect

from platform_core.testing import project_of
from tests.servers import ROOT, Server, running_server

# One service of each kind: service (the entrypoint), wsgi, db, frontend.
SERVICES = ("hello", "legacy", "products", "legacy-express")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> dict[str, str]:
    """The server's environment: a project of ``SERVICES`` only."""
    folder = tmp_path_factory.mktemp("servers")
    root = project_of(folder, ROOT / "services", SERVICES, "INFO", "hello")
    return {"JOULE_ROOT": str(root)}


@pytest.fixture(scope="module")
def development_server(tmp_path_factory, project) -> Iterator[Server]:
    args = ["manage.py", "runserver", "127.0.0.1:{port}", "--noreload"]
    workdir = tmp_path_factory.mktemp("runserver")
    with running_server("runserver", args, workdir, project) as server:
        yield server


@pytest.fixture(scope="module")
def production_server(tmp_path_factory, project) -> Iterator[Server]:
    args = [
        "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
        "platform_core.asgi:application", "-b", "127.0.0.1:{port}", "-w", "1",
    ]  # fmt: skip
    workdir = tmp_path_factory.mktemp("gunicorn")
    with running_server("gunicorn", args, workdir, project) as server:
        yield server


@pytest.fixture(
    scope="module",
    params=["development_server", "production_server"],
    ids=["runserver", "gunicorn"],
)
def server(request) -> Server:
    return request.getfixturevalue(request.param)


def test_hello_answers_json_with_a_request_id(server):
    response = server.get("/hello/")
    assert response.status_code == 200
    assert response.json()["message"] == "Hello from Joule"
    assert response.headers["X-Request-Id"]
    assert response.json()["requestId"] == response.headers["X-Request-Id"]


def test_client_request_id_comes_back_unchanged(server):
    response = server.get("/hello/", headers={"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"
    assert response.json()["requestId"] == "abc-123"


def test_root_is_answered_by_the_entrypoint(server):
    response = server.get("/")
    assert response.status_code == 200
    assert response.json()["message"] == "Hello from Joule"


def test_wsgi_mount_sees_its_prefix_as_script_name(server):
    response = server.get("/legacy/hello")
    assert response.status_code == 200
    body = response.json()
    assert body["script_name"] == "/legacy"
    assert body["path_info"] == "/hello"
    assert response.headers["X-Request-Id"]


def test_mesh_call_forwards_credentials_and_request_id(server):
    response = server.get(
        "/hello/legacy",
        headers={"Authorization": "Bearer token-1"},
        cookies={"theme": "dark"},
    )
    assert response.status_code == 200
    legacy = response.json()["legacy"]
    assert response.json()["status"] == 200
    assert legacy["script_name"] == "/legacy"
    assert legacy["authorization"] == "Bearer token-1"
    assert legacy["cookie"] == "theme=dark"
    assert legacy["request_id"] == response.headers["X-Request-Id"]


def test_ready_reports_every_service_ready(server):
    response = server.get("/_joule/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True
    assert sorted(body["services"]) == sorted(SERVICES)
    assert all(state["ready"] for state in body["services"].values()), body


def test_unmatched_path_gets_the_json_404(server):
    response = server.get("/does-not-exist/x")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["statusCode"] == 404


def test_websocket_echoes_json(server):
    ws_url = server.url.replace("http://", "ws://") + "/hello/ws/echo"
    with connect(ws_url, open_timeout=10) as websocket:
        websocket.send(json.dumps({"n": 1, "text": "hi"}))
        answer = json.loads(websocket.recv(timeout=10))
    assert answer == {"echo": {"n": 1, "text": "hi"}}


def test_access_log_is_json_with_service_and_request_id(server):
    request_id = uuid.uuid4().hex
    response = server.get("/hello/", headers={"X-Request-Id": request_id})
    assert response.headers["X-Request-Id"] == request_id
    deadline = time.monotonic() + 5
    while True:
        matches = [
            record
            for record in server.log_records()
            if record.get("logger") == "joule.request"
            and record.get("service") == "hello"
            and record.get("request_id") == request_id
        ]
        if matches or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert matches, server.stderr.read_text()
    assert matches[0]["status"] == 200
    assert matches[0]["path"] == "/hello/"


def test_db_service_api_is_served_with_its_migrations_applied(server):
    created = server.request(
        "POST", "/products/categories", json={"name": f"Cat {server.name}"}
    )
    assert created.status_code == 201
    category = created.json()["id"]
    product = {
        "sku": f"SKU-{server.name}",
        "title": "Cup",
        "price": "3.50",
        "categoryId": category,
    }
    stored = server.request("POST", "/products/products", json=product)
    assert stored.status_code == 201
    listed = server.get(f"/products/categories/{category}/products?fields=sku")
    assert listed.json() == [{"sku": f"SKU-{server.name}"}]
    parent = server.get(f"/products/products/{stored.json()['id']}/category")
    assert parent.json()["name"] == f"Cat {server.name}"
    assert server.get("/products/openapi.json").status_code == 200


def test_frontend_is_proxied_under_its_prefix(server):
    response = server.get("/legacy-api/hello")
    assert response.status_code == 200
    assert response.json()["base"] == "/legacy-api"
    assert server.get("/legacy-api/redirect").headers["Location"] == (
        "/legacy-api/hello"
    )


def test_frontend_websocket_is_proxied(server):
    ws_url = server.url.replace("http://", "ws://") + "/legacy-api/ws"
    with connect(ws_url, open_timeout=10) as websocket:
        assert json.loads(websocket.recv(timeout=10))["url"] == "/legacy-api/ws"
        websocket.send("echo me")
        assert websocket.recv(timeout=10) == "echo me"
