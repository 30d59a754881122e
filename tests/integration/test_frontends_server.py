"""The frontend kind under a real server: uvicorn serving the platform.

The server starts the Node process itself (lifespan start-up) and stops
it at shutdown; the tests talk to it over sockets only, raw ones where an
HTTP client would refuse to send what is tested.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.sync.client import connect

from platform_core.testing import project_of
from tests.servers import ROOT, Server, running_server

PREFIX = "/legacy-api"
UVICORN = [
    "-m", "uvicorn", "platform_core.asgi:application",
    "--host", "127.0.0.1", "--port", "{port}", "--lifespan", "on",
]  # fmt: skip


def project(folder) -> dict[str, str]:
    """The server's environment: legacy-express, and hello answering "/"."""
    services = ("hello", "legacy-express")
    root = project_of(folder, ROOT / "services", services, "INFO", "hello")
    return {"JOULE_ROOT": str(root)}


@pytest.fixture(scope="module")
def uvicorn_server(tmp_path_factory, legacy_express) -> Iterator[Server]:
    """uvicorn on the platform's ASGI app; legacy_express has run `npm ci`."""
    workdir = tmp_path_factory.mktemp("uvicorn")
    with running_server("uvicorn", UVICORN, workdir, project(workdir)) as server:
        yield server


def node_pid(server: Server) -> int:
    detail = server.get("/_joule/ready").json()["services"]["legacy-express"]
    return int(detail["detail"].rsplit("pid ", 1)[1].rstrip(")"))


def raw_request(server: Server, request: bytes) -> tuple[int, bytes]:
    """Send raw bytes; return the status code and the rest of the answer.

    The answer is read until the server closes the connection.
    """
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while data := sock.recv(65536):
            answer += data
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest


def test_frontend_is_started_with_the_server_and_ready(uvicorn_server):
    body = uvicorn_server.get("/_joule/ready").json()
    state = body["services"]["legacy-express"]
    assert state["ready"] is True, state
    assert state["detail"].startswith("running on 127.0.0.1:")


def test_json_route_through_a_real_server(uvicorn_server):
    response = uvicorn_server.get(f"{PREFIX}/items/3")
    assert response.json() == {"id": 3, "name": "Item 3"}


def test_streaming_response_arrives_in_chunks(uvicorn_server):
    arrivals = []
    with httpx.stream("GET", uvicorn_server.url + f"{PREFIX}/stream") as response:
        for line in response.iter_lines():
            if line:
                arrivals.append(time.monotonic())
    assert len(arrivals) == 5
    # Express sends a line every 150 ms: each arrives on its own.
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert all(gap > 0.05 for gap in gaps), gaps


def test_websocket_echo_through_a_real_server(uvicorn_server):
    url = uvicorn_server.url.replace("http://", "ws://") + f"{PREFIX}/ws"
    with connect(url, subprotocols=["echo.v1"], open_timeout=10) as websocket:
        assert websocket.subprotocol == "echo.v1"
        assert json.loads(websocket.recv(timeout=10))["hello"] == "echo.v1"
        websocket.send("hello through the proxy")
        assert websocket.recv(timeout=10) == "hello through the proxy"


def test_websocket_to_a_bad_path_gets_a_json_400(uvicorn_server):
    url = uvicorn_server.url.replace("http://", "ws://") + f"{PREFIX}/%2e%2e/ws"
    with pytest.raises(Exception) as caught:
        connect(url, open_timeout=10)
    response = caught.value.response
    assert response.status_code == 400
    assert json.loads(response.body)["code"] == "INVALID_PATH"


def test_content_length_with_transfer_encoding_is_refused(uvicorn_server):
    status, _ = raw_request(
        uvicorn_server,
        b"POST /legacy-api/echo HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /legacy-api/hello HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )
    assert status == 400


def test_literal_dot_dot_is_refused(uvicorn_server):
    status, rest = raw_request(
        uvicorn_server,
        b"GET /legacy-api/../legacy-api/hello HTTP/1.1\r\nHost: localhost\r\n"
        b"Connection: close\r\n\r\n",
    )
    assert status == 400
    assert b"INVALID_PATH" in rest


def test_absolute_form_target_does_not_choose_the_upstream(uvicorn_server):
    status, rest = raw_request(
        uvicorn_server,
        b"GET http://169.254.169.254/legacy-api/headers HTTP/1.1\r\n"
        b"Host: localhost\r\nConnection: close\r\n\r\n",  # an allowed host
    )
    assert status == 200
    assert b'"host":"127.0.0.1:' in rest
    assert b"Hello" not in rest and b'"url":"/legacy-api/headers"' in rest


def test_frontend_output_joins_the_json_log(uvicorn_server):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [
            record
            for record in uvicorn_server.log_records()
            if record.get("logger") == "joule.frontend.legacy-express"
            and "listening on" in record.get("message", "")
        ]
        if lines:
            break
        time.sleep(0.1)
    assert lines, uvicorn_server.stderr.read_text()
    assert lines[0]["service"] == "legacy-express"
    assert lines[0]["stream"] == "stdout"


def test_node_process_stops_with_the_server(tmp_path):
    with running_server("uvicorn", UVICORN, tmp_path, project(tmp_path)) as server:
        pid = node_pid(server)
        os.kill(pid, 0)  # running
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail(f"Node process {pid} outlived the server")


def test_the_proxy_adds_no_headers_of_its_own(uvicorn_server):
    status, rest = raw_request(
        uvicorn_server,
        b"GET /legacy-api/headers HTTP/1.1\r\nHost: localhost\r\n"
        b"Connection: close\r\n\r\n",
    )
    assert status == 200
    body = rest.split(b"\r\n\r\n", 1)[1]
    if b"chunked" in rest.split(b"\r\n\r\n", 1)[0].lower():
        body = body.split(b"\r\n", 1)[1].rsplit(b"\r\n0\r\n", 1)[0]
    seen = json.loads(body)["headers"]
    assert "accept-encoding" not in seen  # else the app compresses for no one
    assert "user-agent" not in seen
    assert "cookie" not in seen
