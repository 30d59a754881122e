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

from typing import Any

from platform_core.config.services import read_frontend_options
from platform_core.registry import Kind


class FrontendKind(Kind):
    """A Node frontend (Next.js, Express, ...) behind the platform's proxy."""

    name = "frontend"
    description = "a Node app run and reverse-proxied by the platform"
    read_options = staticmethod(read_frontend_options)

    # The runtime supervises the process; it is imported when first needed.
    def asgi_app(self, spec) -> Any:
        """Return the reverse proxy (HTTP and websockets) to the Node process."""
        from platform_core.runtime.frontends import frontend_app

        return frontend_app(spec)

    def start(self, spec) -> bool:
        """Start the Node process in the background (unless another process
        of the host supervises it); return True: its readiness is awaited."""
        from platform_core.runtime.frontend_state import supervised_elsewhere
        from platform_core.runtime.frontends import frontends

        if not supervised_elsewhere():
            frontends.start(spec)
        return True

    def stop(self, spec) -> None:
        """Stop the Node process, if this process started it."""
        from platform_core.runtime.frontends import frontends

        if frontends.is_registered(spec.id):
            frontends.get(spec.id).stop()

    def check_ready(self, spec) -> tuple[bool, str]:
        """Report the Node process's state: ready only while it is running.

        The process is this process's own, or the one a supervisor of the
        host publishes (so a second ``manage.py services`` sees it too).
        """
        from platform_core.runtime import frontend_state
        from platform_core.runtime.frontends import frontends

        if frontends.is_registered(spec.id):
            return frontends.get(spec.id).status()
        state = frontend_state.read(spec.id)
        if state is None:
            return False, "not started (starts with the server or on first request)"
        return state.running, state.detail
