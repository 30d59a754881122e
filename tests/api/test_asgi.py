"""The ASGI application: HTTP and websockets for every service, lifespan."""

import gc

import httpx
import pytest
import pytest_asyncio
from channels.testing import WebsocketCommunicator

from platform_core.asgi import application

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def client():
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver"
    ) as c:
        yield c


async def test_django_service_is_served_under_its_prefix(client):
    response = await client.get("/hello/greet/ada")
    assert response.json() == {"message": "Hello, ada!"}
    assert len(response.headers["x-request-id"]) == 32


async def test_wsgi_mount_gets_root_path_as_script_name(client):
    response = await client.get("/legacy/hello", headers={"X-Request-Id": "r-1"})
    body = response.json()
    assert (body["script_name"], body["path_info"]) == ("/legacy", "/hello")
    assert body["request_id"] == response.headers["x-request-id"] == "r-1"


async def test_entrypoint_answers_the_root(client):
    assert (await client.get("/")).json()["message"] == "Hello from Joule"


async def test_platform_pages_are_served(client):
    assert (await client.get("/_joule/health")).json() == {"status": "ok"}


# Channels' consumers check the database connections of the shared sync
# thread (close_old_connections); earlier tests may have left one open there.
@pytest.mark.django_db
async def test_websocket_consumer_is_served_under_the_prefix():
    communicator = WebsocketCommunicator(application, "/hello/ws/echo")
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"ping": 1})
    assert await communicator.receive_json_from() == {"echo": {"ping": 1}}
    await communicator.disconnect()


async def test_websocket_to_an_unknown_path_is_refused():
    communicator = WebsocketCommunicator(application, "/hello/ws/nothing")
    with pytest.raises(ValueError, match="No route found"):
        await communicator.connect()


async def test_lifespan_startup_and_shutdown_complete():
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message["type"])

    await application({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_start_up_settles_the_heap_and_shutdown_releases_it():
    """What start-up built is kept out of the collector's full passes."""
    steps = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    frozen = []

    async def receive():
        return next(steps)

    async def send(message):
        frozen.append(gc.get_freeze_count())

    await application({"type": "lifespan"}, receive, send)
    assert frozen[0] > 10_000  # the app's routes, schemas and models
    assert frozen[1] == 0


async def test_wsgi_mount_sees_the_generated_request_id(client):
    response = await client.get("/legacy/hello")
    assert response.json()["request_id"] == response.headers["x-request-id"]
