"""Calls from this machine are not redirected to HTTPS.

With ``[server] https = true`` Django's SecurityMiddleware redirects every
plain-HTTP request to ``https://`` (``SECURE_SSL_REDIRECT``). The platform's
own callers speak plain HTTP on purpose and never leave the machine: the
in-process mesh (``http://<id>.internal``), the Node frontends' server side
(``JOULE_URL``, ``http://127.0.0.1:<port>``) and probes run in the container.
A request from a loopback address that carries no ``X-Forwarded-Proto`` is
such a call; ``LocalCallersMiddleware``, placed before SecurityMiddleware,
marks its scheme https, as a TLS server would, so it is served. A request
through a proxy names its scheme in ``X-Forwarded-Proto`` and is judged by it::

    MIDDLEWARE = [...,
                  "platform_core.gateway.security.LocalCallersMiddleware",
                  "django.middleware.security.SecurityMiddleware", ...]
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed


def is_local_call(request) -> bool:
    """Return whether ``request`` came from this machine, not through a proxy."""
    if "HTTP_X_FORWARDED_PROTO" in request.META:
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


class LocalCallersMiddleware:
    """Serve local calls as https when plain HTTP is redirected; else absent."""

    def __init__(self, get_response: Callable) -> None:
        if not settings.SECURE_SSL_REDIRECT:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        if is_local_call(request):
            scope = getattr(request, "scope", None)  # ASGI, else WSGI
            if scope is not None:
                scope["scheme"] = "https"
            else:
                request.environ["wsgi.url_scheme"] = "https"
        return self.get_response(request)
