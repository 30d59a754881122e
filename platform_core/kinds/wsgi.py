"""The ``wsgi`` kind: an unmodified WSGI (or ASGI) app mounted in-process.

The app sees ``SCRIPT_NAME`` = the prefix and ``PATH_INFO`` = the rest::

    kind = "wsgi"
    prefix = "/legacy"
    app = "services.legacy.app:application"   # "module:callable"
    interface = "wsgi"                         # or "asgi"
"""

from __future__ import annotations

import functools
import importlib
import re
from dataclasses import dataclass
from typing import Any

from platform_core.config.reader import TableReader
from platform_core.exceptions import ConfigError
from platform_core.kinds.base import Kind

APP_RE = re.compile(r"^[A-Za-z_][\w.-]*:[A-Za-z_][\w.]*$")


@dataclass(frozen=True)
class WsgiOptions:
    """The ``wsgi`` kind's keys of service.toml."""

    # app: "module:callable" of the application.
    app: str
    # interface: "wsgi" (wrapped for ASGI with a2wsgi) or "asgi".
    interface: str = "wsgi"
    # where: the key path named in import errors.
    where: str = ""


def import_app(dotted: str, where: str) -> Any:
    """Import ``"module:callable"``; raise ConfigError naming ``where``."""
    module_name, _, attr = dotted.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{where}: cannot import {dotted!r}: {exc}") from None
    if not callable(obj):
        raise ConfigError(f"{where}: {dotted!r} is not callable")
    return obj


class WsgiKind(Kind):
    """A WSGI or ASGI application served under the prefix, no sockets."""

    name = "wsgi"
    description = "an unmodified WSGI/ASGI app (Flask, legacy code)"

    def read_options(self, reader: TableReader, service_id: str) -> WsgiOptions:
        """Read ``app`` and ``interface``."""
        app = reader.get("app", str)
        if not APP_RE.match(app):
            raise ConfigError(
                f"{reader.where('app')}: {app!r} must look like "
                "'package.module:callable'"
            )
        interface = reader.get("interface", str, "wsgi", choices=("wsgi", "asgi"))
        return WsgiOptions(app, interface, reader.where("app"))

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
