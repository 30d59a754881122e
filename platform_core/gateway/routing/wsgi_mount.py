"""WSGI dispatch by service prefix: mounted WSGI apps, else Django.

The WSGI twin of ``router.PlatformRouter``, used by the WSGI entry point and
by the in-process transport. Requests are admitted first, as by the router
(``admission``: a Host outside ALLOWED_HOSTS is a JSON 400, a declared body
over the limit a 413). A mounted app gets ``SCRIPT_NAME`` = its prefix and
``PATH_INFO`` = the rest::

    application = PlatformWSGI(get_wsgi_application())
    # GET /legacy/hello -> legacy app with SCRIPT_NAME=/legacy, PATH_INFO=/hello
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from platform_core.config.types import ServiceSpec
from platform_core.gateway.routing.admission import environ_refusal, wsgi_refusal
from platform_core.gateway.routing.urlconfs import ROUTE_KEY
from platform_core.observability.requests import wsgi_request_context
from platform_core.registry import ServiceRegistry, kinds, services


class PlatformWSGI:
    """Send each WSGI request to its mounted app, or to Django."""

    def __init__(self, django_app: Callable, registry: ServiceRegistry = services):
        self.django_app = django_app
        self.registry = registry
        self._mounts: dict[ServiceSpec, Any] = {}

    def mount_for(self, spec: ServiceSpec) -> Callable | None:
        """Return the WSGI app serving ``spec`` outside Django, or None."""
        if spec not in self._mounts:
            app = kinds.get(spec.kind).wsgi_app(spec)
            self._mounts[spec] = wsgi_request_context(app, spec.id) if app else None
        return self._mounts[spec]

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        refusal = environ_refusal(environ)
        if refusal is not None:
            return wsgi_refusal(refusal, start_response)
        path = environ.get("PATH_INFO", "/")
        route = environ.get(ROUTE_KEY) or self.registry.match(path)
        mount = self.mount_for(route.spec) if route else None
        if mount is None:
            return self.django_app(environ, start_response)
        environ = {
            **environ,
            "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + route.prefix,
            "PATH_INFO": path[len(route.prefix) :],
        }
        return mount(environ, start_response)
