"""Prefix routing: services under their prefixes, the entrypoint, WSGI mounts."""

from pathlib import Path

import pytest
from django.test import Client
from django.urls import get_script_prefix

from platform_core.config.services import WsgiOptions
from platform_core.config.types import ServiceSpec
from platform_core.testing import platform_client, register_temporarily


def wsgi_spec(service_id, prefix, app="services.legacy.app:application"):
    return ServiceSpec(
        service_id,
        "wsgi",
        prefix,
        Path("."),
        "services." + service_id,
        WsgiOptions(app, "wsgi", f"services/{service_id}: app"),
    )


def plain_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"nested {environ['SCRIPT_NAME']} {environ['PATH_INFO']}".encode()]


@pytest.fixture
def client():
    with platform_client() as client:
        yield client


def test_service_urls_are_served_under_its_prefix(client):
    assert client.get("/hello/greet/ada").json() == {"message": "Hello, ada!"}


@pytest.mark.parametrize("path", ["/hello", "/hello/"])
def test_service_root_answers_with_and_without_slash(client, path):
    assert client.get(path).json()["message"] == "Hello from Joule"


def test_reverse_in_a_service_includes_its_prefix(client):
    assert client.get("/hello/").json()["greet"] == "/hello/greet/world"


def test_a_service_prefix_ends_with_its_request():
    # Django's test client does not reset the script prefix per request as its
    # handlers do; a prefix left behind would pile up in every later reverse().
    client = Client()
    for _ in range(2):
        assert client.get("/hello/").json()["greet"] == "/hello/greet/world"
    assert get_script_prefix() == "/"


def test_prefix_matches_only_at_a_path_boundary(client):
    response = client.get("/helloworld")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_entrypoint_answers_the_root(client):
    body = client.get("/").json()
    assert body["message"] == "Hello from Joule"
    assert body["greet"] == "/greet/world"  # reversed at the root mount


def test_entrypoint_answers_unmatched_paths(client):
    assert client.get("/greet/bob").json() == {"message": "Hello, bob!"}


def test_unknown_path_is_a_json_404(client):
    response = client.get("/hello/no/such/page")
    assert response.status_code == 404
    assert response.json() == {
        "statusCode": 404,
        "code": "NOT_FOUND",
        "error": "Not Found",
        "message": "No route for GET /hello/no/such/page",
    }


def test_platform_paths_never_reach_the_entrypoint(client):
    assert client.get("/_joule/health").json() == {"status": "ok"}
    assert client.get("/_joule/nothing").status_code == 404


def test_wsgi_app_sees_prefix_as_script_name(client):
    body = client.get("/legacy/hello").json()
    assert (body["script_name"], body["path_info"]) == ("/legacy", "/hello")
    assert body["self_url"] == "/legacy/hello"


def test_longest_prefix_wins(client):
    spec = wsgi_spec("nested", "/legacy/v2", "tests.api.test_routing:plain_app")
    with register_temporarily(spec):
        assert client.get("/legacy/v2/page").text == "nested /legacy/v2 /page"
        assert client.get("/legacy/hello").json()["script_name"] == "/legacy"


def test_method_not_allowed_is_json(client):
    response = client.delete("/hello/")
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize("path", ["/hello/nope", "/nope/deeper", "/_joule/nothing"])
def test_unknown_paths_are_json_even_with_debug_on(client, settings, path):
    settings.DEBUG = True
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == "NOT_FOUND"
