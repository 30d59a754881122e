"""Serve an HTTP request in-process, with no socket: the mesh and tests use it.

``PlatformTransport`` is an httpx transport that dispatches a full platform
path the way the ASGI router does, but synchronously, through
``PlatformWSGI``: WSGI mounts are called directly, everything else goes
through Django's handler::

    client = httpx.Client(transport=PlatformTransport(),
                          base_url="http://testserver")
    client.get("/legacy/hello")
"""

from __future__ import annotations

import httpx
from django.core.handlers.wsgi import WSGIHandler, get_script_name
from django.urls import get_script_prefix, get_urlconf, set_script_prefix, set_urlconf

from platform_core.gateway.routing.urlconfs import ROUTE_KEY
from platform_core.gateway.routing.wsgi_mount import PlatformWSGI
from platform_core.registry import Route


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


_app: PlatformWSGI | None = None


def platform_wsgi() -> PlatformWSGI:
    """Return the shared in-process WSGI dispatcher (mounts, else Django)."""
    global _app
    if _app is None:
        _app = PlatformWSGI(InProcessHandler())
    return _app


class PlatformTransport(httpx.BaseTransport):
    """An httpx transport that serves requests in this process."""

    def route(self, request: httpx.Request) -> Route | None:
        """Return a route to pin ``request`` to, or None to route by its path."""
        return None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Serve ``request`` through its service, with no socket."""
        route = self.route(request)
        dispatch = platform_wsgi()

        def app(environ, start_response):
            if route is not None:
                environ = {**environ, ROUTE_KEY: route}
            body = dispatch(environ, start_response)
            # A server sends no body with HEAD; neither does the in-process one.
            return [] if environ["REQUEST_METHOD"] == "HEAD" else body

        return httpx.WSGITransport(app=app).handle_request(request)
