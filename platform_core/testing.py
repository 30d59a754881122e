"""Test helpers shipped as API.

``platform_client()`` serves requests in-process through the platform's
routing, exactly as a real request is routed (services, WSGI mounts, the
platform's own paths)::

    from platform_core.testing import platform_client

    with platform_client() as client:
        assert client.get("/orders/").status_code == 200
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx

from platform_core.config.schema import ServiceSpec
from platform_core.gateway.inprocess import PlatformTransport
from platform_core.registry import ServiceRegistry, services


def platform_client(**kwargs: Any) -> httpx.Client:
    """Return an httpx client serving every path of the platform in-process."""
    kwargs.setdefault("base_url", "http://testserver")
    return httpx.Client(transport=PlatformTransport(), **kwargs)


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
    """Register ``spec`` for the duration of the block, then unregister it."""
    registry = services if registry is None else registry
    registry.register(spec)
    try:
        yield spec
    finally:
        registry.unregister(spec.id)
