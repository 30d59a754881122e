"""The ``frontend`` kind: a Node app from ``proxied_frontends/<name>``.

The keys are read and checked here; ``runtime.frontends`` builds, starts,
restarts and proxies the process (HTTP and websockets) under the prefix::

    kind = "frontend"
    [frontend]
    path = "proxied_frontends/storefront"
    command = "npm run start"
    health = "/"
    timeout = 30          # seconds the proxy waits on the app (then 504)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_core.config.reader import TableReader
from platform_core.exceptions import ConfigError
from platform_core.kinds.base import Kind


@dataclass(frozen=True)
class FrontendOptions:
    """``[frontend]`` of a frontend service's service.toml."""

    # path: the Node app's folder, relative to the project root.
    path: str
    # command: starts the built app in production; gets PORT and BASE_PATH.
    command: str = "npm run start"
    # build: builds the app before start ("" for none).
    build: str = ""
    # dev: the development server used by runserver ("" means `command`).
    dev: str = ""
    # port: the loopback port to run on; 0 picks a free one.
    port: int = 0
    # health: a path answering 2xx once the app is up (under the prefix).
    health: str = "/"
    # timeout: seconds the proxy waits to connect, for each read and write
    # (a slower app gets 504).
    timeout: float = 30.0
    # static: [[frontend.static]] (path, folder, immutable): built files the
    # platform serves from disk in production instead of asking Node.
    static: tuple[tuple[str, str, bool], ...] = ()


def _static(table: TableReader) -> tuple[str, str, bool]:
    """Read one ``[[frontend.static]]``: path, folder, immutable."""
    entry = (
        table.get("path", str),
        table.get("folder", str),
        table.get("immutable", bool, False),
    )
    table.finish()
    path, folder, _ = entry
    if not path.startswith("/") or not path.endswith("/"):
        raise ConfigError(f"{table.where('path')}: must start and end with '/'")
    if folder.startswith("/") or ".." in Path(folder).parts:
        raise ConfigError(
            f"{table.where('folder')}: must be a folder inside the app's folder"
        )
    return entry


class FrontendKind(Kind):
    """A Node frontend (Next.js, Express, ...) behind the platform's proxy."""

    name = "frontend"
    description = "a Node app run and reverse-proxied by the platform"

    def read_options(self, reader: TableReader, service_id: str) -> FrontendOptions:
        """Read the ``[frontend]`` table."""
        table = reader.table("frontend")
        options = FrontendOptions(
            path=table.get("path", str, f"proxied_frontends/{service_id}"),
            command=table.get("command", str, "npm run start"),
            build=table.get("build", str, ""),
            dev=table.get("dev", str, ""),
            port=table.get("port", int, 0),
            health=table.get("health", str, "/"),
            timeout=float(table.get("timeout", (int, float), 30.0)),
            static=tuple(_static(t) for t in table.tables("static")),
        )
        table.finish()
        if not 0 <= options.port < 65536:
            raise ConfigError(f"{table.where('port')}: {options.port} is not a port")
        if not options.health.startswith("/"):
            raise ConfigError(f"{table.where('health')}: must start with '/'")
        if options.timeout <= 0:
            raise ConfigError(f"{table.where('timeout')}: must be above 0 seconds")
        return options

    # The runtime supervises the process; it is imported when first needed.
    def asgi_app(self, spec) -> Any:
        """Return the reverse proxy (HTTP and websockets) to the Node process."""
        from platform_core.runtime.frontends import frontend_app

        return frontend_app(spec)

    def start(self, spec) -> bool:
        """Start the Node process in the background; return True."""
        from platform_core.runtime.frontends import frontends

        frontends.start(spec)
        return True

    def stop(self, spec) -> None:
        """Stop the Node process, if this process started it."""
        from platform_core.runtime.frontends import frontends

        if frontends.is_registered(spec.id):
            frontends.get(spec.id).stop()

    def check_ready(self, spec) -> tuple[bool, str]:
        """Report the Node process's state: ready only while it is running."""
        from platform_core.runtime.frontends import frontends

        if not frontends.is_registered(spec.id):
            return False, "not started (starts with the server or on first request)"
        return frontends.get(spec.id).status()
