"""LocalCallersMiddleware: with the HTTPS redirect on, the platform's own
plain-HTTP callers are served; everyone else is redirected as Django would."""

from __future__ import annotations

import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.test import RequestFactory, override_settings

from platform_core.gateway.security import LocalCallersMiddleware, is_local_call

HTTPS = {
    "SECURE_SSL_REDIRECT": True,
    "SECURE_REDIRECT_EXEMPT": [r"^_joule/(health|ready)$"],
    "SECURE_HSTS_SECONDS": 3600,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "ALLOWED_HOSTS": ["*"],
}


def serve(request):
    """Answer ``request`` through both middleware, in the settings' order."""
    chain = LocalCallersMiddleware(SecurityMiddleware(lambda r: HttpResponse("ok")))
    return chain(request)


def get(path: str = "/hello/", remote: str = "127.0.0.1", **headers):
    return RequestFactory().get(path, REMOTE_ADDR=remote, **headers)


@override_settings(**HTTPS)
@pytest.mark.parametrize("remote", ["127.0.0.1", "127.0.0.9", "::1"])
def test_a_loopback_call_without_forwarded_proto_is_served(remote):
    response = serve(get(remote=remote))
    assert response.status_code == 200
    # Served as https: the answer carries HSTS like any secure one.
    assert response["Strict-Transport-Security"] == "max-age=3600"


@override_settings(**HTTPS)
@pytest.mark.parametrize(
    ("remote", "headers"),
    [
        pytest.param("10.1.2.3", {}, id="remote-client"),
        pytest.param("127.0.0.1", {"HTTP_X_FORWARDED_PROTO": "http"}, id="via-proxy"),
        pytest.param("", {}, id="unix-socket"),
    ],
)
def test_other_plain_http_requests_are_redirected(remote, headers):
    response = serve(get(remote=remote, **headers))
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/hello/"


@override_settings(**HTTPS)
def test_a_proxy_saying_https_is_served_and_probes_never_redirect():
    via_proxy = get(remote="10.1.2.3", HTTP_X_FORWARDED_PROTO="https")
    assert serve(via_proxy).status_code == 200
    assert serve(get("/_joule/health", remote="10.1.2.3")).status_code == 200
    assert serve(get("/_joule/ready", remote="10.1.2.3")).status_code == 200


def test_is_local_call_needs_a_loopback_address_and_no_proxy_header():
    assert is_local_call(get(remote="127.0.0.1"))
    assert not is_local_call(get(remote="not-an-address"))
    assert not is_local_call(get(HTTP_X_FORWARDED_PROTO="https"))


@override_settings(SECURE_SSL_REDIRECT=False)
def test_without_the_redirect_the_middleware_is_not_used():
    with pytest.raises(MiddlewareNotUsed):
        LocalCallersMiddleware(lambda r: HttpResponse("ok"))
