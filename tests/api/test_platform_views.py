"""/_joule/health, /_joule/ready and the dashboard."""

from pathlib import Path

import pytest

from platform_core.config.services import WsgiOptions
from platform_core.config.types import ServiceSpec
from platform_core.registry import services
from platform_core.testing import platform_client, register_temporarily


@pytest.fixture
def client():
    with platform_client() as client:
        yield client


def broken_wsgi_service():
    options = WsgiOptions(
        "services.nowhere.app:application", "wsgi", "services/broken/service.toml: app"
    )
    return ServiceSpec(
        "broken", "wsgi", "/broken", Path("."), "services.broken", options
    )


def test_health_answers_while_the_process_serves(client):
    response = client.get("/_joule/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.django_db
def test_ready_when_every_service_is_ready(client, express, next_storefront):
    response = client.get("/_joule/ready")
    assert response.status_code == 200
    ok = {"ready": True, "detail": "ok"}
    running = {"ready": True, "detail": express.detail}
    assert express.detail.startswith("running on 127.0.0.1:")
    body = response.json()
    assert body["ready"] is True
    assert list(body["services"]) == [spec.id for spec in services]
    assert all(state["ready"] for state in body["services"].values())
    examples = {
        "auth": ok,
        "hello": ok,
        "legacy": ok,
        "legacy-express": running,
        "orders": ok,
        "products": ok,
        "storefront": {"ready": True, "detail": next_storefront.detail},
    }  # a user's own services are in body["services"] too
    assert {name: body["services"][name] for name in examples} == examples


def test_not_ready_names_the_service_and_the_cause(client):
    with register_temporarily(broken_wsgi_service()):
        response = client.get("/_joule/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert body["services"]["hello"]["ready"] is True
    broken = body["services"]["broken"]
    assert broken["ready"] is False
    assert "services/broken/service.toml: app: cannot import" in broken["detail"]


def test_health_refuses_writes(client):
    assert client.post("/_joule/health").status_code == 405


def test_dashboard_lists_services_kinds_prefixes_and_links(client):
    response = client.get("/_joule/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for text in (
        "hello",
        "service",
        "<code>/hello</code>",
        "(entrypoint)",
        "legacy",
        "wsgi",
        "<code>/legacy</code>",
        'href="/legacy/"',
    ):
        assert text in page
