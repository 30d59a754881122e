"""The frontend kind in-process: the real Express app behind the platform's proxy.

Requests go through the platform's ASGI application with httpx's ASGI
transport; the Node process is the real one, started once per session.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import os
import signal
import time

import httpx
import pytest
import pytest_asyncio
from channels.testing import WebsocketCommunicator

from platform_core.asgi import application
from platform_core.gateway.proxy.http import FixedUpstream, ReverseProxy
from platform_core.runtime.frontends import free_port

pytestmark = pytest.mark.asyncio
PREFIX = "/legacy-api"


@pytest_asyncio.fixture
async def client(express):
    transport = httpx.ASGITransport(app=application, client=("10.1.2.3", 5000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver"
    ) as c:
        yield c


async def seen_by_express(client, **kwargs) -> dict:
    """Return the request as Express saw it (its /headers route)."""
    response = await client.get(f"{PREFIX}/headers", **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def assert_json_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["statusCode"] == status
    assert body["code"] == code
    assert body["message"]


async def test_json_route_is_served_under_the_prefix(client):
    response = await client.get(f"{PREFIX}/items/7?x=1")
    assert response.status_code == 200
    assert response.json() == {"id": 7, "name": "Item 7"}
    assert response.headers["x-request-id"]


async def test_the_app_sees_its_base_path(client):
    body = (await client.get(f"{PREFIX}/hello")).json()
    assert body == {
        "message": "Hello from Express",
        "base": PREFIX,
        "url": f"{PREFIX}/hello",
    }


@pytest.mark.parametrize("route", ["redirect", "redirect-root", "redirect-absolute"])
async def test_redirect_location_points_under_the_prefix(client, route):
    response = await client.get(f"{PREFIX}/{route}")
    assert response.status_code == 302
    assert response.headers["location"] == f"{PREFIX}/hello"


async def test_cookie_paths_are_scoped_to_the_prefix(client):
    response = await client.get(f"{PREFIX}/cookie")
    cookies = response.headers.get_list("set-cookie")
    assert cookies == [
        f"session=abc123; Path={PREFIX}; HttpOnly",
        f"scoped=1; Path={PREFIX}/hello",
    ]


async def test_gzip_body_passes_through_untouched(client):
    async with client.stream(
        "GET", f"{PREFIX}/gzip", headers={"Accept-Encoding": "gzip"}
    ) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) == len(raw)
    assert json.loads(gzip.decompress(raw))["compressed"] is True


async def test_chunked_request_body_streams_upstream(client):
    chunk = os.urandom(64 * 1024)

    async def body():
        for _ in range(32):  # 2 MiB, without a Content-Length
            yield chunk

    response = await client.post(f"{PREFIX}/echo", content=body())
    answer = response.json()
    assert answer["bytes"] == 32 * len(chunk)
    assert answer["sha256"] == hashlib.sha256(chunk * 32).hexdigest()
    assert answer["transferEncoding"] == "chunked"


async def test_sized_request_body_keeps_its_length(client):
    response = await client.post(f"{PREFIX}/echo", json={"a": 1})
    answer = response.json()
    assert answer["bytes"] == len(b'{"a":1}')
    assert answer["contentType"] == "application/json"
    assert answer["transferEncoding"] is None


async def test_unknown_route_is_the_apps_own_404(client):
    response = await client.get(f"{PREFIX}/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"] == "not found"


async def test_websocket_echo_through_the_proxy(express):
    communicator = WebsocketCommunicator(
        application, f"{PREFIX}/ws", subprotocols=["echo.v1", "other"]
    )
    connected, subprotocol = await communicator.connect(timeout=10)
    assert connected
    assert subprotocol == "echo.v1"
    hello = json.loads(await communicator.receive_from(timeout=10))
    assert hello == {"hello": "echo.v1", "url": f"{PREFIX}/ws"}
    await communicator.send_to(text_data="ping")
    assert await communicator.receive_from(timeout=10) == "ping"
    await communicator.send_to(bytes_data=b"\x00\x01binary")
    assert (await communicator.receive_output(10))["bytes"] == b"\x00\x01binary"
    await communicator.disconnect()


async def test_websocket_with_a_bad_path_is_refused(express):
    communicator = WebsocketCommunicator(application, f"{PREFIX}/%2e%2e/ws")
    connected, code = await communicator.connect(timeout=10)
    assert not connected
    assert code == 1008


# The contained proxy: one test per rule.


@pytest.mark.parametrize(
    "path",
    [
        "/%2e%2e/hello",
        "/%2E%2e/hello",
        "/.%2e/hello",
        "/x/%2e%2e/%2e%2e/etc/passwd",
        "/%252e%252e/hello",
        "/a%2fb",
        "/a%2F..%2Fb",
        "/a%5cb",
        "/a%00b",
        "/a%0d%0aX-Injected:%201",
    ],
)
async def test_traversal_encoded_slashes_and_nul_are_refused(client, path):
    url = httpx.URL("http://testserver").copy_with(raw_path=(PREFIX + path).encode())
    assert_json_error(await client.get(url), 400, "INVALID_PATH")


async def test_dot_segments_and_double_slashes_are_normalised(client):
    raw = f"{PREFIX}/./items//%2e/7".encode()
    response = await client.get(httpx.URL("http://testserver").copy_with(raw_path=raw))
    assert response.json() == {"id": 7, "name": "Item 7"}


async def test_host_header_does_not_choose_the_upstream(client, express):
    # An allowed host (a host outside allowed_hosts never gets this far: 400).
    seen = await seen_by_express(client, headers={"Host": "localhost:6379"})
    assert seen["headers"]["host"] == f"127.0.0.1:{express.port}"
    assert seen["headers"]["x-forwarded-host"] == "localhost:6379"


async def test_hop_by_hop_request_headers_are_not_forwarded(client):
    seen = await seen_by_express(
        client,
        headers={
            "Connection": "keep-alive, X-Private",
            "X-Private": "secret",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Trailer": "X-Sum",
            "Upgrade": "h2c",
            "Proxy-Authorization": "Basic Zm9vOmJhcg==",
            "Proxy-Connection": "keep-alive",
            "X-End-To-End": "kept",
        },
    )
    headers = seen["headers"]
    for name in (
        "x-private",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "proxy-authorization",
        "proxy-connection",
    ):
        assert name not in headers, name
    assert headers["x-end-to-end"] == "kept"


async def test_hop_by_hop_response_headers_are_not_passed_back(client):
    response = await client.get(f"{PREFIX}/hop-by-hop")
    assert response.json() == {"ok": True}
    for name in (
        "connection",
        "x-hop-secret",
        "keep-alive",
        "proxy-authenticate",
        "trailer",
        "upgrade",
        "transfer-encoding",
    ):
        assert name not in response.headers, name
    assert response.headers["x-end-to-end"] == "kept"


async def test_forwarded_headers_are_set_by_the_proxy(client):
    seen = await seen_by_express(
        client,
        headers={
            "X-Forwarded-For": "6.6.6.6",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Prefix": "/elsewhere",
            "Forwarded": "for=6.6.6.6;proto=https",
        },
    )
    headers = seen["headers"]
    assert headers["x-forwarded-for"] == "10.1.2.3"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"] == "testserver"
    assert headers["x-forwarded-prefix"] == PREFIX
    assert "forwarded" not in headers


async def test_admin_secret_is_never_forwarded(client):
    seen = await seen_by_express(
        client,
        headers={"X-JOULE-ADMIN-SECRET": "s3cret", "Authorization": "Bearer t"},
    )
    assert "x-joule-admin-secret" not in seen["headers"]
    assert seen["headers"]["authorization"] == "Bearer t"


async def call_asgi(app, scope: dict, body: bytes = b"") -> tuple[int, dict]:
    """Call ``app`` with an HTTP scope; return the status and JSON body."""
    sent = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), 10)
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], json.loads(body)


def http_scope(path: str, headers: list) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


async def test_content_length_with_transfer_encoding_is_refused(express):
    scope = http_scope(
        f"{PREFIX}/echo",
        [(b"content-length", b"4"), (b"transfer-encoding", b"chunked")],
    )
    status, body = await call_asgi(application, scope, b"abcd")
    assert (status, body["code"]) == (400, "INVALID_HEADERS")


async def test_conflicting_content_lengths_are_refused(express):
    scope = http_scope(
        f"{PREFIX}/echo", [(b"content-length", b"4"), (b"content-length", b"5")]
    )
    status, body = await call_asgi(application, scope, b"abcd")
    assert (status, body["code"]) == (400, "INVALID_HEADERS")


def proxy_client(proxy: ReverseProxy) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=proxy, root_path=PREFIX)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_unreachable_upstream_is_a_502():
    proxy = ReverseProxy(FixedUpstream(f"http://127.0.0.1:{free_port()}"), name="up")
    async with proxy_client(proxy) as client:
        response = await client.get(f"{PREFIX}/hello")
    await proxy.aclose()
    assert_json_error(response, 502, "BAD_GATEWAY")


async def test_slow_upstream_is_a_504(express):
    url = f"http://127.0.0.1:{express.port}{PREFIX}"
    proxy = ReverseProxy(FixedUpstream(url), timeout=0.3, name="slow")
    started = time.monotonic()
    async with proxy_client(proxy) as client:
        fast = await client.get(f"{PREFIX}/slow?ms=10")
        slow = await client.get(f"{PREFIX}/slow?ms=3000")
    await proxy.aclose()
    assert fast.json() == {"waited": 10}
    assert_json_error(slow, 504, "GATEWAY_TIMEOUT")
    assert time.monotonic() - started < 2.5


async def test_killed_process_answers_json_errors_then_comes_back(client, express):
    old_pid = express.process.pid
    os.kill(old_pid, signal.SIGKILL)
    statuses = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = await client.get(f"{PREFIX}/hello")
        if response.status_code == 200 and express.process.pid != old_pid:
            break
        if response.status_code != 200:
            assert response.status_code in (502, 503), response.text
            assert response.json()["code"] in ("BAD_GATEWAY", "SERVICE_UNAVAILABLE")
            statuses.add(response.status_code)
        await asyncio.sleep(0.02)
    else:
        pytest.fail(f"legacy-express did not come back: {express.detail}")
    assert statuses, "no error was seen while the process was down"
    assert express.status()[0] is True
    assert express.process.pid != old_pid
