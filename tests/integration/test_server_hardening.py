"""Server-level hardening, against real servers (runserver and ``manage.py
start``) over raw sockets: a declared body over the limit is refused before
it is read, a Host outside allowed_hosts is refused on every route, and the
production worker closes connections whose headers trickle in (slowloris).
"""

from __future__ import annotations

import asyncio
import json
import selectors
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from platform_core.config import load_config
from platform_core.exceptions import ConfigError
from platform_core.testing import project_of
from tests.servers import ROOT, Server, running_server

# A db service (fast routes and Django's), a Django service, a WSGI app.
SERVICES = ("hello", "legacy", "products")
HEADER_TIMEOUT = 1
HUGE = 1_000_000_000


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> dict[str, str]:
    """The servers' environment: a project of ``SERVICES``, header_timeout 1."""
    folder = tmp_path_factory.mktemp("hardening")
    root = project_of(folder, ROOT / "services", SERVICES, "INFO", "hello")
    with (root / "joule.toml").open("a") as toml:
        toml.write(f"[server]\nheader_timeout = {HEADER_TIMEOUT}\n")
    return {"JOULE_ROOT": str(root)}


@pytest.fixture(scope="module")
def development_server(tmp_path_factory, project) -> Iterator[Server]:
    args = ["manage.py", "runserver", "127.0.0.1:{port}", "--noreload"]
    workdir = tmp_path_factory.mktemp("runserver")
    with running_server("runserver", args, workdir, project) as server:
        yield server


@pytest.fixture(scope="module")
def production_server(tmp_path_factory, project) -> Iterator[Server]:
    args = ["manage.py", "start", "--bind", "127.0.0.1:{port}", "--workers", "1"]
    workdir = tmp_path_factory.mktemp("start")
    with running_server("manage.py start", args, workdir, project) as server:
        yield server


@pytest.fixture(
    scope="module",
    params=["development_server", "production_server"],
    ids=["runserver", "start"],
)
def server(request) -> Server:
    return request.getfixturevalue(request.param)


def address(server: Server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def exchange(server: Server, head: str, timeout: float = 5.0) -> tuple[float, bytes]:
    """Send ``head`` (request line and headers, little or no body) on a raw
    socket; return the seconds until a whole answer arrived, and the answer.
    Past ``timeout``, what arrived by then."""
    with socket.create_connection(address(server), timeout=timeout) as sock:
        started = time.monotonic()
        sock.sendall(head.encode())
        received = b""
        try:
            while not complete(received) and (chunk := sock.recv(65536)):
                received += chunk
        except TimeoutError:
            pass
        return time.monotonic() - started, received


def complete(answer: bytes) -> bool:
    """Return whether ``answer`` holds a head and all the body it declares."""
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def parse(answer: bytes) -> tuple[int, dict[str, str], dict]:
    """Return the status, headers (lower-case names) and JSON body."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    headers = {name.lower(): value for name, value in headers.items()}
    return int(lines[0].split()[1]), headers, json.loads(body)


def declared_huge(method: str, path: str, content_type: str) -> str:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {HUGE}\r\n\r\n{{}}"
    )


# 1. A declared body over the limit: 413 at once, before the body is read.


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/products/products"),  # fast route: REST insert
        ("POST", "/products/graphql"),  # fast route: GraphQL
        ("PATCH", "/products/products/1"),  # Django's routes
        ("PUT", "/products/products/1"),
    ],
    ids=["rest-insert", "graphql", "patch", "put"],
)
def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(
    server, method, path
):
    elapsed, answer = exchange(server, declared_huge(method, path, "application/json"))
    assert answer, f"no answer within {elapsed:.1f} s"
    status, headers, body = parse(answer)
    assert status == 413
    assert headers["content-type"] == "application/json"
    assert body == {
        "statusCode": 413,
        "code": "PAYLOAD_TOO_LARGE",
        "error": "Request Entity Too Large",
        "message": "The body is too large",
    }
    assert elapsed < 1.0, f"answered after {elapsed:.2f} s"
    # The server is still serving.
    assert server.get("/products/products").status_code == 200


def test_a_client_sending_all_of_a_too_large_body_reads_the_413(server):
    # The body is dropped as it arrives, not cut off by a reset.
    response = server.request(
        "POST",
        "/products/products",
        content=b"x" * 3_000_000,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert server.get("/products/products").status_code == 200


def test_a_large_body_within_the_limit_is_still_served(server):
    row = {"sku": "pen", "title": "Pen", "price": 1.5, "description": "x" * 2_000_000}
    inserted = server.request("POST", "/products/products", json=row)
    assert inserted.status_code == 201, inserted.text[:500]
    pk = inserted.json()["id"]
    patched = server.request("PATCH", f"/products/products/{pk}", json=row)
    assert patched.status_code == 200, patched.text[:500]


# 2. A Host outside allowed_hosts: the JSON 400 on every route.

EVIL = "evil.example.com"
ROUTES = [
    ("GET", "/products/products", None),  # generated API, fast route
    ("POST", "/products/graphql", {"query": "{ products { id } }"}),  # fast GraphQL
    ("GET", "/products/openapi.json", None),  # generated API, Django
    ("GET", "/hello/", None),  # a service's own route
    ("GET", "/legacy/hello", None),  # a WSGI app
    ("GET", "/_joule/ready", None),
    ("GET", "/admin/login/", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    ROUTES,
    ids=["rest", "graphql", "openapi", "service", "wsgi", "ready", "admin"],
)
def test_a_host_outside_allowed_hosts_is_refused_on_every_route(
    server, method, path, body
):
    served = server.request(method, path, json=body)
    assert served.status_code == 200, served.text
    refused = server.request(method, path, json=body, headers={"Host": EVIL})
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "BAD_REQUEST"
    assert refused.json()["message"] == (
        f"Invalid Host header '{EVIL}': this server does not serve '{EVIL}'. "
        "Add it to [server] allowed_hosts in joule.toml to serve it."
    )
    with_port = server.request(method, path, json=body, headers={"Host": EVIL + ":80"})
    assert with_port.status_code == 400


def test_the_mesh_still_reaches_services_in_process(server):
    # /hello/legacy calls http://legacy.internal/ through the mesh.
    response = server.get("/hello/legacy")
    assert response.status_code == 200, response.text


# 3. Slowloris: headers sent a byte at a time are cut off (production).


def test_connections_trickling_headers_are_closed_after_the_header_timeout(
    production_server,
):
    head = b"GET /hello/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100
    sockets = [socket.create_connection(address(production_server)) for _ in range(20)]
    started = time.monotonic()
    closed_after: dict[socket.socket, float] = {}
    answers = dict.fromkeys(sockets, b"")
    normal = None
    try:
        for index in range(len(head)):
            open_ = [s for s in sockets if s not in closed_after]
            if not open_ or time.monotonic() - started > 6:
                break
            for sock in open_:
                try:
                    sock.send(head[index : index + 1])
                except OSError:  # reset: closed by the server
                    closed_after[sock] = time.monotonic() - started
            if normal is None and time.monotonic() - started > 0.5:
                normal = production_server.get("/hello/")
            readable = _readable(open_, 0.1)
            for sock in readable:
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    chunk = b""
                answers[sock] += chunk
                if not chunk:
                    closed_after.setdefault(sock, time.monotonic() - started)
    finally:
        for sock in sockets:
            sock.close()
    assert len(closed_after) == 20, f"{20 - len(closed_after)} still open after 6 s"
    assert max(closed_after.values()) < HEADER_TIMEOUT + 2.0, closed_after.values()
    assert normal is not None and normal.status_code == 200
    status, headers, body = parse(next(a for a in answers.values() if a))
    assert (status, headers["connection"]) == (408, "close")
    assert body["code"] == "REQUEST_TIMEOUT"
    assert body["message"] == (
        "The request headers did not arrive within 1 s ([server] header_timeout)"
    )


def test_header_timeout_must_be_positive(tmp_path):
    (tmp_path / "joule.toml").write_text("[server]\nheader_timeout = 0\n")
    with pytest.raises(ConfigError, match="server.header_timeout: must be more than 0"):
        load_config(tmp_path)
    (tmp_path / "joule.toml").write_text("[server]\nheader_timeout = 2.5\n")
    assert load_config(tmp_path).server.header_timeout == 2.5
    (tmp_path / "joule.toml").write_text("")
    assert load_config(tmp_path).server.header_timeout == 10


# In-process: the WSGI entry point and websockets, which the servers above
# do not show.


# Django's request signals check connections an earlier test may have left.
@pytest.mark.django_db
def test_the_wsgi_entry_point_refuses_a_host_outside_allowed_hosts():
    from platform_core.wsgi import application

    transport = httpx.WSGITransport(app=application)
    with httpx.Client(transport=transport, base_url=f"http://{EVIL}") as client:
        refused = client.get("/_joule/health")
    assert refused.status_code == 400
    assert refused.json()["code"] == "BAD_REQUEST"
    assert f"does not serve '{EVIL}'" in refused.json()["message"]
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        assert client.get("/_joule/health").status_code == 200
        too_large = client.post("/_joule/health", content=b"x" * 3_000_000)
    assert too_large.status_code == 413
    assert too_large.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_a_websocket_with_a_host_outside_allowed_hosts_is_refused():
    from platform_core.gateway.routing.router import PlatformRouter

    async def never_called(scope, receive, send):
        raise AssertionError("the application was called")

    async def handshake(extensions: dict) -> list[dict]:
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "websocket.connect"}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {
            "type": "websocket",
            "path": "/hello/ws",
            "headers": [(b"host", EVIL.encode())],
            "extensions": extensions,
        }
        await PlatformRouter(never_called)(scope, receive, send)
        return sent

    closed = asyncio.run(handshake({}))
    assert closed == [{"type": "websocket.close", "code": 1008}]
    answered = asyncio.run(handshake({"websocket.http.response": {}}))
    assert answered[0]["type"] == "websocket.http.response.start"
    assert answered[0]["status"] == 400
    assert json.loads(answered[1]["body"])["code"] == "BAD_REQUEST"


def _readable(sockets: list[socket.socket], timeout: float) -> list[socket.socket]:
    """Return those of ``sockets`` with data or EOF (poll: any descriptor
    number, where select() stops at 1024)."""
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            selector.register(sock, selectors.EVENT_READ)
        return [key.fileobj for key, _ in selector.select(timeout)]
