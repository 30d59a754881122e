"""The envelope shared by the fast routes and Django's middleware."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from platform_core.exceptions import ConfigError
from platform_core.fastpath.routes import FastRoutes
from platform_core.observability.envelope import (
    REPRODUCED,
    check_middleware,
    request_id_header,
    security_headers,
)


def test_the_platforms_middleware_is_all_accounted_for():
    check_middleware(settings.MIDDLEWARE)
    assert set(settings.MIDDLEWARE) <= set(REPRODUCED)


def test_a_middleware_the_fast_path_would_skip_stops_the_start():
    extra = [*settings.MIDDLEWARE, "shop.middleware.AuditMiddleware"]
    with override_settings(MIDDLEWARE=extra):
        with pytest.raises(ConfigError, match="shop.middleware.AuditMiddleware"):
            FastRoutes(app=None, urlconf_for=lambda spec: None)


def test_security_headers_follow_the_settings():
    with override_settings(X_FRAME_OPTIONS="SAMEORIGIN"):
        security_headers.cache_clear()
        assert (b"x-frame-options", b"SAMEORIGIN") in security_headers()
    security_headers.cache_clear()
    assert (b"x-frame-options", b"DENY") in security_headers()
    assert request_id_header("abc") == (b"x-request-id", b"abc")
