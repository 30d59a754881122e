"""Serve an HTTP request in-process, with no socket: the mesh and tests use it.

``PlatformTransport`` is an httpx transport that dispatches a full platform
path the way the ASGI router does, but synchronously: WSGI mounts are called
directly, everything else goes through Django's handler::

    client = httpx.Client(transport=PlatformTransport(),
                          base_url="http://testserver")
    client.get("/legacy/hello")
"""

from __future__ import annotations

import httpx
from django.core.handlers.wsgi import WSGIHandler, get_script_name
from django.urls import get_script_prefix, get_urlconf, set_script_prefix, set_urlconf

from platform_core.gateway.routing import ROUTE_KEY
from platform_core.kinds import kinds
from platform_core.observability.requests import wsgi_request_context
from platform_core.registry import Route, services


class InProcessHandler(WSGIHandler):
    """Django's WSGI handler, safe to call while another request is served.

    It sends no request_started/request_finished signals (their receivers
    would close the caller's database connection mid-transaction) and puts
    back the caller's script prefix and URLconf afterwards.
    """

    def __call__(self, environ, start_response):
        saved_prefix, saved_urlconf = get_script_prefix(), get_urlconf()
        try:
            set_script_prefix(get_script_name(environ))
            response = self.get_response(self.request_class(environ))
            status = f"{response.status_code} {response.reason_phrase}"
            start_response(
                status,
                [
                    *response.items(),
                    *(
                        ("Set-Cookie", c.output(header=""))
                        for c in response.cookies.values()
                    ),
                ],
            )
            body = list(response)
            for close in response._resource_closers:  # close() would signal
                close()
            return body
        finally:
            set_script_prefix(saved_prefix)
            set_urlconf(saved_urlconf)


_django: InProcessHandler | None = None


def django_handler() -> InProcessHandler:
    """Return the shared in-process Django handler."""
    global _django
    if _django is None:
        _django = InProcessHandler()
    return _django


def _pinned(app, route: Route):
    def pinned_app(environ, start_response):
        return app({**environ, ROUTE_KEY: route}, start_response)

    return pinned_app


class PlatformTransport(httpx.BaseTransport):
    """An httpx transport that serves requests in this process."""

    def route(self, request: httpx.Request) -> Route | None:
        """Return the route of ``request`` by its path."""
        return services.match(request.url.path)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Serve ``request`` through its service, with no socket."""
        route = self.route(request)
        mount = kinds.get(route.spec.kind).wsgi_app(route.spec) if route else None
        if mount is None:
            app = django_handler()
            if route is not None:
                app = _pinned(app, route)
            return httpx.WSGITransport(app=app).handle_request(request)
        below = request.url.path[len(route.prefix) :] or "/"
        inner = httpx.Request(
            request.method,
            request.url.copy_with(path=below),
            headers=request.headers,
            content=request.read(),
        )
        app = wsgi_request_context(mount, route.spec.id)
        return httpx.WSGITransport(app=app, script_name=route.prefix).handle_request(
            inner
        )
