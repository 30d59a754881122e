"""The storefront's dev server (``next dev``, as runserver runs it) behind the
proxy: pages, and its hot-reload websocket."""

from __future__ import annotations

import json

import pytest
from channels.testing import WebsocketCommunicator

from platform_core.registry import services
from platform_core.runtime.frontends import FrontendRegistry, frontend_app

PREFIX = "/storefront"


@pytest.fixture(scope="module")
def dev_storefront(storefront):
    """``next dev`` of the storefront (after ``storefront`` installed it)."""
    registry = FrontendRegistry()
    registry.mode = "development"
    spec = services.get("storefront")
    process = registry.start(spec)
    assert process.wait_ready(180), process.detail
    yield spec, registry
    registry.unregister(spec.id)
    process.stop()


def mounted(app):
    """Call ``app`` as the platform's router does: under the prefix."""

    async def under_prefix(scope, receive, send):
        await app({**scope, "root_path": PREFIX}, receive, send)

    return under_prefix


@pytest.mark.asyncio
async def test_next_dev_hot_reload_socket_goes_through_the_proxy(dev_storefront):
    spec, registry = dev_storefront
    app = mounted(frontend_app(spec, registry))
    communicator = WebsocketCommunicator(app, f"{PREFIX}/_next/hmr?id=test")
    connected, _ = await communicator.connect(timeout=30)
    assert connected
    message = json.loads(await communicator.receive_from(timeout=60))
    assert "type" in message or "action" in message, message
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_next_dev_serves_routes_through_the_proxy(dev_storefront):
    import httpx

    spec, registry = dev_storefront
    transport = httpx.ASGITransport(app=mounted(frontend_app(spec, registry)))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        health = await client.get(f"{PREFIX}/api/health")
        moved = await client.get(f"{PREFIX}/old")
    assert health.json() == {"ok": True, "service": "storefront"}
    assert moved.status_code == 307 and moved.headers["location"] == PREFIX
