"""The envelope of every answer, whichever path made it: request context,
``X-Request-Id``, the security headers and the access log line.

Django's path gets it from ``MIDDLEWARE`` (``RequestContextMiddleware`` and
Django's own security and clickjacking middleware); the fast path
(``platform_core.fastpath``) skips the middleware and calls the same
functions here. ``check_middleware`` is how the two stay equal: every
``MIDDLEWARE`` entry must be one whose effect the fast path reproduces or
does not need, or start-up stops naming it::

    check_middleware(settings.MIDDLEWARE)     # ConfigError for an unknown one
    headers = [*security_headers(), request_id_header(context.request_id)]
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings

from platform_core.exceptions import ConfigError
from platform_core.observability.context import REQUEST_ID_HEADER

# MIDDLEWARE entries the fast path accounts for, and how. A generated route
# on the fast path serves only services without authorization rules, so
# sessions, users and credentials are never read there.
REPRODUCED = {
    "platform_core.gateway.routing.urlconfs.ServiceRoutingMiddleware": (
        "the ASGI router resolves the service before the fast path"
    ),
    "platform_core.observability.requests.RequestContextMiddleware": (
        "request context, X-Request-Id and access log (this module)"
    ),
    "platform_core.exceptions.JsonErrorMiddleware": (
        "errors answered by exceptions.exception_response"
    ),
    "platform_core.gateway.security.LocalCallersMiddleware": (
        "the fast path never redirects to HTTPS, so no call needs exempting"
    ),
    "django.middleware.security.SecurityMiddleware": "security_headers()",
    "django.middleware.clickjacking.XFrameOptionsMiddleware": "security_headers()",
    "whitenoise.middleware.WhiteNoiseMiddleware": "static files are not API routes",
    "django.contrib.sessions.middleware.SessionMiddleware": "no session is read",
    "django.middleware.csrf.CsrfViewMiddleware": "generated API views are exempt",
    "django.contrib.auth.middleware.AuthenticationMiddleware": "no user is read",
    "platform_core.authorization.middleware.CredentialsMiddleware": (
        "services with rules never take the fast path"
    ),
    "django.contrib.messages.middleware.MessageMiddleware": "no message is read",
}


def check_middleware(middleware: list[str] | tuple[str, ...]) -> None:
    """Raise ConfigError naming each entry the fast path does not account for.

    A middleware added to settings would otherwise be skipped silently by
    the fast routes.
    """
    unknown = [entry for entry in middleware if entry not in REPRODUCED]
    if unknown:
        raise ConfigError(
            f"MIDDLEWARE holds {', '.join(unknown)}, which the fast routes of "
            "generated APIs would skip. Add its effect to "
            "platform_core.fastpath and its name to "
            "platform_core.observability.envelope.REPRODUCED, or remove it."
        )


@functools.cache
def security_headers() -> tuple[tuple[bytes, bytes], ...]:
    """Return the headers Django's security and clickjacking middleware add."""
    headers = {"X-Frame-Options": settings.X_FRAME_OPTIONS}
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers["X-Content-Type-Options"] = "nosniff"
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        headers["Referrer-Policy"] = (
            policy if isinstance(policy, str) else ",".join(policy)
        )
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers["Cross-Origin-Opener-Policy"] = (
            settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
        )
    if settings.SECURE_HSTS_SECONDS:
        # Django sends it on secure requests; with SSL redirect on, the fast
        # path serves only those (needs_redirect), and browsers ignore it on
        # plain HTTP anyway.
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            hsts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            hsts += "; preload"
        headers["Strict-Transport-Security"] = hsts
    return tuple((k.lower().encode(), v.encode()) for k, v in headers.items())


def needs_redirect(scope: dict) -> bool:
    """Return whether Django would redirect this request to https://.

    With ``SECURE_SSL_REDIRECT`` (``[server] https``) a plain-HTTP request
    gets SecurityMiddleware's redirect; the fast path leaves such a request
    to Django. Secure is: an https scope, the trusted proxy header saying
    so, or a call from this machine without one (the mesh, the frontends'
    server side: ``gateway.security``).
    """
    return bool(settings.SECURE_SSL_REDIRECT) and not is_secure(scope)


def is_secure(scope: dict) -> bool:
    """Return whether the request of ASGI ``scope`` is served as https."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    header = settings.SECURE_PROXY_SSL_HEADER
    name = (
        header[0].removeprefix("HTTP_").replace("_", "-").lower().encode()
        if header
        else b"x-forwarded-proto"
    )
    value = next((v for k, v in scope.get("headers", ()) if k.lower() == name), None)
    if value is not None:
        said = value.decode("latin1").split(",")[0].strip()
        return bool(header) and said == header[1]
    client = (scope.get("client") or ("",))[0]
    try:
        return ipaddress.ip_address(client).is_loopback
    except ValueError:
        return False


def request_id_header(request_id: str) -> tuple[bytes, bytes]:
    """Return the ``X-Request-Id`` header of an answer."""
    return REQUEST_ID_HEADER.encode(), request_id.encode()
