"""The ``frontend`` kind: a Node app from ``proxied_frontends/<name>``.

The keys are read and checked here; building, starting, restarting and
proxying the process plug into this kind::

    kind = "frontend"
    [frontend]
    path = "proxied_frontends/storefront"
    command = "npm run start"
    health = "/"
"""

from __future__ import annotations

from dataclasses import dataclass

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
    # health: a path answering 2xx once the app is up.
    health: str = "/"


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
        )
        table.finish()
        if not 0 <= options.port < 65536:
            raise ConfigError(f"{table.where('port')}: {options.port} is not a port")
        if not options.health.startswith("/"):
            raise ConfigError(f"{table.where('health')}: must start with '/'")
        return options

    def check_ready(self, spec) -> tuple[bool, str]:
        """Report the Node process as not running until a runtime starts it."""
        return False, "frontend process not started"
