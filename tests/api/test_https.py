"""With ``[server] https``, the fast routes behave as Django's path does:
a plain-HTTP request is redirected, a secure one gets HSTS."""

from __future__ import annotations

import httpx
import pytest
from django.test import override_settings

from platform_core.observability.envelope import is_secure, needs_redirect
from platform_core.testing import ASGIThreadTransport

pytestmark = pytest.mark.django_db

HTTPS = {
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 3600,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
}


def remote_client() -> httpx.Client:
    """An in-process client of the ASGI application, calling from afar."""
    from platform_core.gateway.routing.asgi import build_application

    transport = ASGIThreadTransport(build_application())
    transport.inner = httpx.ASGITransport(
        app=transport.app, client=("203.0.113.5", 40000)
    )
    return httpx.Client(transport=transport, base_url="http://localhost")


@override_settings(**HTTPS)
def test_a_plain_http_list_is_redirected_to_https():
    with remote_client() as client:
        answer = client.get("/products/products?limit=1")
    assert answer.status_code == 301
    assert answer.headers["location"] == "https://localhost/products/products?limit=1"


@override_settings(**HTTPS)
def test_a_list_through_the_tls_proxy_is_served_with_hsts():
    with remote_client() as client:
        answer = client.get(
            "/products/products?limit=1", headers={"X-Forwarded-Proto": "https"}
        )
    assert answer.status_code == 200
    sts = answer.headers["strict-transport-security"]
    assert sts == "max-age=3600; includeSubDomains"


@override_settings(**HTTPS)
def test_secure_means_https_the_trusted_header_or_this_machine():
    def scope(client: str, *headers: tuple[bytes, bytes], scheme="http") -> dict:
        return {"scheme": scheme, "client": (client, 1), "headers": list(headers)}

    assert is_secure(scope("203.0.113.5", scheme="https"))
    assert is_secure(scope("203.0.113.5", (b"x-forwarded-proto", b"https")))
    assert not is_secure(scope("203.0.113.5", (b"x-forwarded-proto", b"http")))
    assert not is_secure(scope("203.0.113.5"))
    assert is_secure(scope("127.0.0.1"))  # the mesh, the frontends' server side
    assert not is_secure(scope("127.0.0.1", (b"x-forwarded-proto", b"http")))
    assert needs_redirect(scope("203.0.113.5"))
    with override_settings(SECURE_SSL_REDIRECT=False):
        assert not needs_redirect(scope("203.0.113.5"))
