"""The ``wsgi`` kind: an unmodified WSGI (or ASGI) app mounted in-process.

The app sees ``SCRIPT_NAME`` = the prefix and ``PATH_INFO`` = the rest::

    kind = "wsgi"
    prefix = "/legacy"
    app = "services.legacy.app:application"   # "module:callable"
    interface = "wsgi"                         # or "asgi"
"""

from __future__ import annotations

import functools
from typing import Any

from platform_core.config.services import WsgiOptions, import_app, read_wsgi_options
from platform_core.exceptions import ConfigError
from platform_core.registry import Kind


class WsgiKind(Kind):
    """A WSGI or ASGI application served under the prefix, no sockets."""

    name = "wsgi"
    description = "an unmodified WSGI/ASGI app (Flask, legacy code)"
    read_options = staticmethod(read_wsgi_options)

    def asgi_app(self, spec) -> Any:
        """Return the app as ASGI, wrapping a WSGI app with a2wsgi."""
        return _asgi_app(spec.options)

    def wsgi_app(self, spec) -> Any:
        """Return the app as WSGI, wrapping an ASGI app with a2wsgi."""
        return _wsgi_app(spec.options)

    def check_ready(self, spec) -> tuple[bool, str]:
        """Report whether the app imports."""
        try:
            _app(spec.options)
        except ConfigError as exc:
            return False, str(exc)
        return True, "ok"


@functools.cache
def _app(options: WsgiOptions) -> Any:
    return import_app(options.app, options.where)


@functools.cache
def _asgi_app(options: WsgiOptions) -> Any:
    if options.interface == "asgi":
        return _app(options)
    from a2wsgi import WSGIMiddleware

    return WSGIMiddleware(_app(options))


@functools.cache
def _wsgi_app(options: WsgiOptions) -> Any:
    if options.interface == "wsgi":
        return _app(options)
    from a2wsgi import ASGIMiddleware

    return ASGIMiddleware(_app(options))
