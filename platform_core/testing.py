"""Test helpers shipped as API.

``platform_client()`` serves requests in-process through the platform's
routing, exactly as a real request is routed (services, WSGI mounts, the
platform's own paths)::

    from platform_core.testing import platform_client

    with platform_client() as client:
        assert client.get("/orders/").status_code == 200

``asgi_client()`` sends them to the ASGI application instead, running on an
event loop in a thread as under a server (the production path, with the
generated API's fast routes)::

    with asgi_client() as client:
        assert client.get("/products/products/1").status_code == 200

``project_of()`` writes a project holding only some services (linked from
another project's ``services/``), for a server started with ``JOULE_ROOT``.

``schema_of()`` builds the entities of tables described in the test, as a
db service sees them, with no database: for where clauses and rule
conditions::

    schema = schema_of(Table("posts", False, columns, ("id",), (), ()))
    build_where(schema.entities["post"], {"title": {"like": "Dog%"}})
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx

from platform_core.config.types import ServiceSpec
from platform_core.db.models import build_schema
from platform_core.db.tables import Table
from platform_core.gateway.routing.inprocess import PlatformTransport
from platform_core.introspection import Schema
from platform_core.registry import ServiceRegistry, services


def platform_client(**kwargs: Any) -> httpx.Client:
    """Return an httpx client serving every path of the platform in-process."""
    kwargs.setdefault("base_url", "http://testserver")
    return httpx.Client(transport=PlatformTransport(), **kwargs)


class ASGIThreadTransport(httpx.BaseTransport):
    """A sync httpx transport calling an ASGI app on its own event loop thread."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="joule-test-asgi", daemon=True
        )
        self.thread.start()
        self.inner = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call():
            copy = httpx.Request(
                request.method,
                request.url,
                headers=request.headers,
                content=request.read(),
            )
            response = await self.inner.handle_async_request(copy)
            return response.status_code, response.headers.raw, await response.aread()

        future = asyncio.run_coroutine_threadsafe(call(), self.loop)
        status, headers, content = future.result(timeout=120)
        return httpx.Response(status, headers=headers, content=content)

    def close(self) -> None:
        """Close the loop thread's database connections, then stop it."""
        from django.db import connections

        async def close_connections() -> None:
            asyncio._set_running_loop(None)  # sync code, as the fast routes run it
            try:
                connections.close_all()
            finally:
                asyncio._set_running_loop(self.loop)

        asyncio.run_coroutine_threadsafe(close_connections(), self.loop).result(30)
        self.app.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


def asgi_client(**kwargs: Any) -> httpx.Client:
    """Return an httpx client served by the platform's ASGI application."""
    from platform_core.gateway.routing.asgi import build_application

    kwargs.setdefault("base_url", "http://testserver")
    return httpx.Client(transport=ASGIThreadTransport(build_application()), **kwargs)


@contextlib.contextmanager
def live_server(app: Any = None) -> Iterator[str]:
    """Serve the platform with uvicorn in a thread; yield its ``http://`` URL.

    A real server on a loopback port, in this process: services registered
    by the test are served, and websockets (GraphQL subscriptions) work.
    """
    import socket

    import uvicorn

    from platform_core.gateway.routing.asgi import build_application

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app or build_application(),
        lifespan="on",
        log_config=None,
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, daemon=True
    )
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the test server did not start")
            thread.join(0.01)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def skip_or_fail(reason: str) -> None:
    """Skip a test whose server is absent; under JOULE_REQUIRE_SERVICES=1, fail."""
    import pytest

    from platform_core.config.env import env

    if env("JOULE_REQUIRE_SERVICES", cast=bool, default=False):
        pytest.fail(f"{reason} (JOULE_REQUIRE_SERVICES=1 requires it)")
    pytest.skip(reason)


@contextlib.contextmanager
def register_temporarily(
    spec: ServiceSpec, registry: ServiceRegistry | None = None
) -> Iterator[ServiceSpec]:
    """Register ``spec`` for the duration of the block, then unregister it.

    A registered service with the same id or a shared prefix (one a user
    added with ``startservice``, say) is set aside for the block and
    registered again after it, so a test's own services never clash with
    a project's.
    """
    registry = services if registry is None else registry
    prefixes = set(spec.prefixes)
    aside = [
        other
        for other in registry
        if other.id == spec.id or prefixes.intersection(other.prefixes)
    ]
    entrypoint = registry.entrypoint
    for other in aside:
        registry.unregister(other.id)
    try:
        registry.register(spec)
        try:
            yield spec
        finally:
            registry.unregister(spec.id)
    finally:
        for other in aside:
            registry.register(other, entrypoint=other is entrypoint)


def project_of(
    folder: Path,
    services_dir: Path,
    names: Iterable[str],
    level: str = "WARNING",
    entrypoint: str | None = None,
) -> Path:
    """Return ``folder/project``: a joule.toml and the services ``names``.

    The services are links to ``services_dir/<name>``, and the frontends'
    apps (``proxied_frontends`` beside ``services_dir``) are linked too;
    the project logs at ``level`` and ``entrypoint`` answers "/". Used
    where a server must run some services only: none a user added, no
    frontend the test does not need, nothing else to measure.
    """
    root = folder / "project"
    (root / "services").mkdir(parents=True, exist_ok=True)
    first = f'entrypoint = "{entrypoint}"\n' if entrypoint else ""
    (root / "joule.toml").write_text(
        f'{first}[logging]\nlevel = "{level}"\nformat = "json"\n'
    )
    for name in names:
        link = root / "services" / name
        if not link.exists():
            link.symlink_to(services_dir / name, target_is_directory=True)
    apps = services_dir.parent / "proxied_frontends"
    if apps.is_dir() and not (root / "proxied_frontends").exists():
        (root / "proxied_frontends").symlink_to(apps, target_is_directory=True)
    return root


def schema_of(*tables: Table, service_id: str = "joule-test-tables") -> Schema:
    """Return the schema of ``tables`` as the db service ``service_id`` sees them.

    Its models are unmanaged and no database is opened: queries built on
    them are checked against the fields, never run. Building again under
    the same ``service_id`` replaces the models built before.
    """
    module = "services." + service_id.replace("-", "_")
    spec = ServiceSpec(service_id, "db", "/" + service_id, Path("."), module)
    return build_schema(spec, "default", list(tables))
