"""The mesh: http://<id>.internal/ served in-process, with the caller's headers."""

import socket

import httpx
import pytest
from django.contrib.auth.models import User

from platform_core import mesh
from platform_core.exceptions import MeshError, ServiceNotFound
from platform_core.observability.context import request_context
from platform_core.testing import platform_client


@pytest.fixture
def no_sockets(monkeypatch):
    """Make any attempt to open a network connection fail loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("the mesh opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_mesh_reaches_a_django_service_without_a_socket(no_sockets):
    with mesh.client() as http:
        response = http.get("http://hello.internal/greet/ada")
    assert response.json() == {"message": "Hello, ada!"}


def test_mesh_reaches_a_wsgi_service_without_a_socket(no_sockets):
    with mesh.client() as http:
        body = http.get("http://legacy.internal/hello").json()
    assert (body["script_name"], body["path_info"]) == ("/legacy", "/hello")


def test_mesh_sends_the_body_and_method():
    with mesh.client() as http:
        response = http.post("http://legacy.internal/echo", json={"n": [1, 2]})
    assert response.json() == {"received": {"n": [1, 2]}}


def test_mesh_carries_the_callers_credentials_and_request_id():
    headers = {
        "authorization": "Bearer abc",
        "cookie": "sessionid=s1",
        "x-request-id": "req-42",
    }
    with request_context("hello", headers), mesh.client() as http:
        body = http.get("http://legacy.internal/hello").json()
    assert body["authorization"] == "Bearer abc"
    assert body["cookie"] == "sessionid=s1"
    assert body["request_id"] == "req-42"


def test_explicit_headers_win_over_forwarded_ones():
    with request_context("hello", {"authorization": "Bearer caller"}):
        with mesh.client(headers={"Authorization": "Bearer own"}) as http:
            body = http.get("http://legacy.internal/hello").json()
    assert body["authorization"] == "Bearer own"


def test_a_service_view_calls_another_through_the_mesh(no_sockets):
    headers = {"Authorization": "Bearer t0k", "X-Request-Id": "outer-1"}
    with platform_client() as client:
        response = client.get("/hello/legacy", headers={**headers, "Cookie": "c=1"})
    legacy = response.json()["legacy"]
    assert legacy["authorization"] == "Bearer t0k"
    assert legacy["cookie"] == "c=1"
    assert legacy["request_id"] == response.headers["x-request-id"] == "outer-1"


def test_unknown_service_id_is_a_clear_error():
    with (
        mesh.client() as http,
        pytest.raises(ServiceNotFound, match="Did you mean 'hello'"),
    ):
        http.get("http://helo.internal/")


@pytest.mark.parametrize("url", ["http://example.com/", "https://hello.internal/"])
def test_urls_outside_the_mesh_are_refused(url):
    with mesh.client() as http, pytest.raises(MeshError, match="only http://"):
        http.get(url)


@pytest.mark.django_db(transaction=False)
def test_nested_mesh_call_keeps_the_callers_transaction():
    User.objects.create(username="before")
    with mesh.client() as http:
        assert http.get("http://hello.internal/").status_code == 200
    User.objects.create(username="after")
    assert User.objects.count() == 2


@pytest.mark.asyncio
async def test_async_mesh_goes_through_the_asgi_application(no_sockets):
    async with mesh.async_client() as http:
        greet = await http.get("http://hello.internal/greet/eve")
        legacy = await http.get("http://legacy.internal/hello")
    assert greet.json() == {"message": "Hello, eve!"}
    assert legacy.json()["script_name"] == "/legacy"


def test_mesh_client_is_an_httpx_client():
    assert isinstance(mesh.client(), httpx.Client)
