"""The ``Kind`` extension point and the registry ``kinds``.

A kind says how a service of that kind is configured, served and checked.
Each kind is a ``Kind`` subclass registered on ``kinds``; the platform
registers the built-in ones (``platform_core.kinds``) at start-up, and a
project may add its own::

    class Kind:                      # override what applies
        name = "wsgi"
        def read_options(self, reader): ...   # keys of service.toml
        def asgi_app(self, spec): ...         # served outside Django
        def start(self, spec): ...            # at server start (processes)
        def check_ready(self, spec): ...      # -> (ready, detail)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from platform_core.exceptions import AlreadyRegistered, NotRegistered, did_you_mean

if TYPE_CHECKING:
    from platform_core.config.reader import TableReader
    from platform_core.config.types import ServiceSpec


def import_optional(module: str) -> Any | None:
    """Import ``module`` and return it, or None when it does not exist.

    An ImportError raised inside an existing module propagates.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            return None
        raise


class Kind:
    """Base of all kinds: a Django app whose ``urls.py`` serves its prefix.

    Override ``read_options`` to accept keys in service.toml (read every key
    you accept; unread keys are reported as unknown), ``asgi_app`` to serve
    the prefix outside Django, and ``check_ready`` to report readiness.
    """

    name = ""
    description = ""

    def read_options(self, reader: TableReader, service_id: str) -> Any:
        """Read this kind's keys from service.toml; return its options."""
        return None

    def urlpatterns(self, spec: ServiceSpec) -> list:
        """Return the Django URL patterns served under the prefix."""
        from django.urls import include, path

        urls = import_optional(spec.module + ".urls")
        if urls is None:
            return []
        # include() keeps the module's app_name, so reverse("<app>:<name>")
        # works inside the service.
        return [path("", include(urls))]

    def websocket_urlpatterns(self, spec: ServiceSpec) -> list:
        """Return the Channels URL patterns served under the prefix."""
        routing = import_optional(spec.module + ".routing")
        return list(getattr(routing, "websocket_urlpatterns", [])) if routing else []

    def asgi_app(self, spec: ServiceSpec) -> Any | None:
        """Return an ASGI app serving the prefix outside Django, or None."""
        return None

    def extra_asgi_app(self, spec: ServiceSpec, prefix: str) -> Any:
        """Return the ASGI app serving ``prefix``, one of ``spec.prefixes``.

        Raise LookupError when the service has no such prefix.
        """
        raise LookupError(f"{spec.id}: no extra prefix {prefix!r}")

    def wsgi_app(self, spec: ServiceSpec) -> Any | None:
        """Return a WSGI app for in-process calls (mesh, tests), or None."""
        return None

    def start(self, spec: ServiceSpec) -> bool:
        """Start what the service runs beside the process, without waiting.

        Called when a server starts (lifespan, runserver). Return True when
        something was started whose readiness is worth waiting for.
        """
        return False

    def stop(self, spec: ServiceSpec) -> None:
        """Stop what ``start`` started (lifespan shutdown)."""

    def check_ready(self, spec: ServiceSpec) -> tuple[bool, str]:
        """Return (ready, detail) for /_joule/ready and ``manage.py services``."""
        return True, "ok"

    def links(self, spec: ServiceSpec) -> dict[str, str]:
        """Return the dashboard's links for a service: label -> URL."""
        return {"open": spec.prefix + "/"}

    def __repr__(self) -> str:
        return f"<Kind {self.name}>"


class KindRegistry:
    """The kinds a service.toml may name."""

    def __init__(self) -> None:
        self._kinds: dict[str, Kind] = {}

    def register(self, kind: Kind) -> Kind:
        """Register ``kind``; raise AlreadyRegistered if its name is taken."""
        if kind.name in self._kinds:
            raise AlreadyRegistered(f"The kind '{kind.name}' is already registered.")
        self._kinds[kind.name] = kind
        return kind

    def unregister(self, name: str) -> None:
        """Unregister kind ``name``; raise NotRegistered if it is unknown."""
        self.get(name)
        del self._kinds[name]

    def is_registered(self, name: str) -> bool:
        """Return whether a kind called ``name`` is registered."""
        return name in self._kinds

    def get(self, name: str) -> Kind:
        """Return kind ``name``; raise NotRegistered if it is unknown."""
        try:
            return self._kinds[name]
        except KeyError:
            raise NotRegistered(
                f"No kind '{name}'. Kinds: {', '.join(self.names()) or 'none'}."
                + did_you_mean(name, self._kinds)
            ) from None

    def names(self) -> tuple[str, ...]:
        """Return the registered kind names in registration order."""
        return tuple(self._kinds)


kinds = KindRegistry()
