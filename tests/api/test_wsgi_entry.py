"""The WSGI entry point serves Django services and mounted WSGI apps."""

import httpx
import pytest

from platform_core.wsgi import application

# Django's real handler closes stale connections on each request.
pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    transport = httpx.WSGITransport(app=application)
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        yield client


def test_django_service_is_served(client):
    assert client.get("/hello/greet/ada").json() == {"message": "Hello, ada!"}


def test_wsgi_mount_is_served_under_its_prefix(client):
    response = client.get("/legacy/hello")
    body = response.json()
    assert (body["script_name"], body["path_info"]) == ("/legacy", "/hello")
    assert body["request_id"] == response.headers["x-request-id"]


def test_entrypoint_and_platform_paths(client):
    assert client.get("/").json()["message"] == "Hello from Joule"
    assert client.get("/_joule/health").json() == {"status": "ok"}
