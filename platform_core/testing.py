"""Test helpers shipped as API.

``platform_client()`` serves requests in-process through the platform's
routing, exactly as a real request is routed (services, WSGI mounts, the
platform's own paths)::

    from platform_core.testing import platform_client

    with platform_client() as client:
        assert client.get("/orders/").status_code == 200
"""

from __future__ import annotations

from typing import Any

import httpx

from platform_core.gateway.inprocess import PlatformTransport


def platform_client(**kwargs: Any) -> httpx.Client:
    """Return an httpx client serving every path of the platform in-process."""
    kwargs.setdefault("base_url", "http://testserver")
    return httpx.Client(transport=PlatformTransport(), **kwargs)
