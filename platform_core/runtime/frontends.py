"""Run Node frontends: build, start, health-check, restart, stop; proxy to them.

One ``FrontendProcess`` per frontend service supervises its Node process
from a thread: install and build when stale, start it on a loopback port
with ``BASE_PATH`` = the service prefix, wait for its health path, restart
it with backoff when it dies, stop its process group with the platform.
``frontends`` is the registry of them; ``frontend_app(spec)`` is the ASGI
app the router mounts under the prefix (HTTP and websockets)::

    from platform_core.runtime.frontends import frontends, frontend_app
    frontends.start(spec)                  # or lazily, on the first request
    frontends.get(spec.id).wait_ready(30)
    app = frontend_app(spec)               # PlatformRouter mounts it
    frontends.stop_all()                   # lifespan shutdown, atexit

Under gunicorn and runserver one process per host supervises them
(``runtime.supervisor``); the others proxy to the ports it publishes.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from platform_core import exceptions as codes
from platform_core.config import get_config
from platform_core.config.types import ServiceSpec
from platform_core.exceptions import AlreadyRegistered, APIError, NotRegistered
from platform_core.gateway.proxy.forwarding import Upstream
from platform_core.gateway.proxy.http import ReverseProxy
from platform_core.gateway.proxy.websocket import WebSocketProxy
from platform_core.runtime import frontend_state, node
from platform_core.runtime.static import static_files

# Seconds: health-check budget of one start, restart backoff, and how long
# a process must stay up for the backoff to start again from the bottom.
HEALTH_TIMEOUT = 120.0
BACKOFF_START, BACKOFF_MAX, STABLE_AFTER = 0.5, 10.0, 30.0
# Seconds a request waits for a frontend's first start before a 503.
FIRST_START_WAIT = 60.0
# States of a FrontendProcess.
STOPPED = "stopped"
PREPARING = "preparing"
STARTING = "starting"
RUNNING = "running"
RESTARTING = "restarting"


class _ServiceTag(logging.Filter):
    def __init__(self, service_id: str) -> None:
        super().__init__()
        self.service_id = service_id

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service_id
        return True


def frontend_logger(service_id: str) -> logging.Logger:
    """Return the logger of a frontend: each record carries its service id."""
    log = logging.getLogger(f"joule.frontend.{service_id}")
    if not any(isinstance(f, _ServiceTag) for f in log.filters):
        log.addFilter(_ServiceTag(service_id))
    return log


def free_port() -> int:
    """Return a loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FrontendProcess:
    """The supervised Node process of one frontend service."""

    def __init__(
        self,
        spec: ServiceSpec,
        root: Path,
        mode: str = "production",
        watchers: list[Callable] | None = None,
    ):
        self.spec = spec
        self.watchers = watchers if watchers is not None else []
        self.options = spec.options
        self.app_dir = root / self.options.path
        self.mode = mode
        self.log = frontend_logger(spec.id)
        self.state, self.detail = STOPPED, "not started"
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.starts = 0
        self.ever_ready = False
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def command(self) -> str:
        """Return the dev command under runserver, else the start command."""
        if self.mode == "development" and self.options.dev:
            return self.options.dev
        return self.options.command

    @property
    def upstream(self) -> Upstream | None:
        """Return where the running process listens, or None."""
        if self.state != RUNNING or self.port is None:
            return None
        return Upstream("http", "127.0.0.1", self.port, self.spec.prefix)

    def start(self) -> None:
        """Start supervising (no-op when already started); return at once."""
        with self._changed:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping.clear()
            self.ever_ready = False  # a new start: requests wait for it
            self._set(PREPARING, "installing and building")
            self._thread = threading.Thread(
                target=self._supervise,
                name=f"joule-frontend-{self.spec.id}",
                daemon=True,
            )
            self._thread.start()

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the process to be running."""
        with self._changed:
            return (
                self._changed.wait_for(
                    lambda: self.state in (RUNNING, STOPPED), timeout
                )
                and self.state == RUNNING
            )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the process group and the supervisor; wait for both."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        process = self.process
        if process is not None:
            node.stop_group(process, timeout)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def status(self) -> tuple[bool, str]:
        """Return (ready, detail) for /_joule/ready."""
        return self.state == RUNNING, self.detail

    def _set(self, state: str, detail: str) -> None:
        with self._changed:
            self.state, self.detail = state, detail
            self._changed.notify_all()
        for watcher in self.watchers:
            try:
                watcher(self)
            except Exception:
                self.log.exception("a watcher of %s failed", self.spec.id)

    def _supervise(self) -> None:
        backoff = BACKOFF_START
        while not self._stopping.is_set():
            started = time.monotonic()
            outcome = self._run_once()
            if self._stopping.is_set():
                break
            if time.monotonic() - started > STABLE_AFTER:
                backoff = BACKOFF_START
            self.log.warning(
                "%s; restarting in %.1f s",
                outcome,
                backoff,
                extra={"stream": "supervisor"},
            )
            self._set(RESTARTING, f"{outcome}; restarting")
            self._stopping.wait(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)
        self._set(STOPPED, "stopped")

    def _run_once(self) -> str:
        """Prepare, start and watch the process once; return why it ended."""
        self.port = self.options.port or free_port()
        env = node.node_env(self.port, self.spec.prefix, self.mode, self.app_dir)
        try:
            if self.mode != "development":
                node.prepare(self.app_dir, self.options.build, env, self.log)
            else:
                node.prepare(self.app_dir, "", env, self.log)
            if self._stopping.is_set():
                return "stopped"
            self.process = node.launch(self.app_dir, self.command, env, self.log)
        except node.FrontendError as exc:
            return str(exc)
        self.starts += 1
        pid = self.process.pid
        self._set(STARTING, f"starting {self.command!r} (pid {pid})")
        if self._wait_healthy():
            self.ever_ready = True
            self._set(RUNNING, f"running on 127.0.0.1:{self.port} (pid {pid})")
            self.log.info(
                "ready on 127.0.0.1:%s (pid %s)",
                self.port,
                pid,
                extra={"stream": "supervisor"},
            )
            self.process.wait()
        code = self.process.returncode
        node.stop_group(self.process, timeout=5)  # what it left behind
        if code is None:
            return f"no answer on {self.options.health} within {HEALTH_TIMEOUT:.0f} s"
        return f"exited with code {self.process.returncode}"

    def _wait_healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.port}{self.spec.prefix}{self.options.health}"
        deadline = time.monotonic() + HEALTH_TIMEOUT
        with httpx.Client(timeout=2, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None or self._stopping.is_set():
                    return False
                try:
                    if client.get(url).is_success:
                        return True
                except httpx.HTTPError:
                    pass
                self._stopping.wait(0.1)
        return False


class FrontendRegistry:
    """The frontend processes of this platform process, by service id."""

    def __init__(self) -> None:
        self._processes: dict[str, FrontendProcess] = {}
        self._lock = threading.Lock()
        # "development" under runserver (dev command, no build).
        self.mode = "production"
        self._watchers: list[Callable] = []

    def watch(self, watcher: Callable) -> None:
        """Call ``watcher(process)`` on every state change of every process."""
        self._watchers.append(watcher)

    def register(self, spec: ServiceSpec, root: Path | None = None) -> FrontendProcess:
        """Register a process for ``spec``; raise AlreadyRegistered if one exists."""
        with self._lock:
            if spec.id in self._processes:
                raise AlreadyRegistered(f"The frontend '{spec.id}' is registered.")
            root = get_config().root if root is None else root
            process = FrontendProcess(spec, root, self.mode, self._watchers)
            self._processes[spec.id] = process
            return process

    def unregister(self, service_id: str) -> None:
        """Stop and forget a frontend; raise NotRegistered if unknown."""
        process = self.get(service_id)
        process.stop()
        with self._lock:
            del self._processes[service_id]

    def is_registered(self, service_id: str) -> bool:
        """Return whether ``service_id`` has a process here."""
        return service_id in self._processes

    def get(self, service_id: str) -> FrontendProcess:
        """Return the process of ``service_id``; raise NotRegistered if none."""
        try:
            return self._processes[service_id]
        except KeyError:
            raise NotRegistered(f"No frontend process for '{service_id}'.") from None

    def process_for(self, spec: ServiceSpec) -> FrontendProcess:
        """Return the process of ``spec``, registering it on first use."""
        with self._lock:
            process = self._processes.get(spec.id)
        return process if process is not None else self._register_once(spec)

    def _register_once(self, spec: ServiceSpec) -> FrontendProcess:
        try:
            return self.register(spec)
        except AlreadyRegistered:
            return self.get(spec.id)

    def start(self, spec: ServiceSpec) -> FrontendProcess:
        """Start ``spec``'s process (no-op when running); return at once."""
        process = self.process_for(spec)
        process.start()
        return process

    def stop_all(self) -> None:
        """Stop every frontend process (lifespan shutdown, atexit)."""
        for process in list(self._processes.values()):
            process.stop()


frontends = FrontendRegistry()
atexit.register(frontends.stop_all)


class SupervisedSource:
    """The upstream of a frontend another process of this host supervises."""

    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec

    async def upstream(self) -> Upstream:
        """Return the published port; raise APIError(503) while it is down."""
        deadline = time.monotonic() + FIRST_START_WAIT
        while True:
            state = frontend_state.read(self.spec.id)
            if state is not None and state.upstream is not None:
                return state.upstream
            starting = state is not None and not state.ever_ready
            if not starting or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)  # the first start: worth waiting for
        detail = f"{state.state}: {state.detail}" if state else "not supervised"
        raise APIError(
            codes.SERVICE_UNAVAILABLE,
            503,
            f"The frontend '{self.spec.id}' is {detail}",
        )


class FrontendSource:
    """The upstream of a frontend: its running process, started on demand."""

    def __init__(self, spec: ServiceSpec, registry: FrontendRegistry) -> None:
        self.spec = spec
        self.registry = registry

    async def upstream(self) -> Upstream:
        """Return the process's address; raise APIError(503) while it is down."""
        process = self.registry.start(self.spec)
        if not process.ever_ready:  # the first start: worth waiting for
            deadline = time.monotonic() + FIRST_START_WAIT
            while process.state in (PREPARING, STARTING):
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
        upstream = process.upstream
        if upstream is None:
            raise APIError(
                codes.SERVICE_UNAVAILABLE,
                503,
                f"The frontend '{self.spec.id}' is {process.state}: {process.detail}",
            )
        return upstream


def frontend_app(spec: ServiceSpec, registry: FrontendRegistry = frontends) -> Callable:
    """Return the ASGI app serving ``spec``'s prefix: HTTP and websockets.

    The Node process is this process's own, started on demand, unless
    another process of the host supervises it (``runtime.supervisor``).
    """
    if frontend_state.supervised_elsewhere():
        source: SupervisedSource | FrontendSource = SupervisedSource(spec)
    else:
        source = FrontendSource(spec, registry)
    name = f"The frontend '{spec.id}'"
    http = ReverseProxy(source, timeout=spec.options.timeout, name=name)
    websocket = WebSocketProxy(source, name=name)
    app_dir = get_config().root / spec.options.path
    static = static_files(spec.options.static, app_dir, "production")

    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http":
            # Built files from disk (production only: a dev server makes them).
            if registry.mode != "development" and await static.serve(scope, send):
                return
            await http(scope, receive, send)
        elif scope["type"] == "websocket":
            await websocket(scope, receive, send)

    return app
