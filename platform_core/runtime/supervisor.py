"""One process per host runs every frontend's Node process.

The gunicorn master (``runtime.gunicorn_conf``) and ``runserver`` spawn it
before their workers or child start, and tell those (``JOULE_FRONTENDS=
supervised``) to proxy to the ports it publishes instead of starting Node
themselves: one Node process per frontend, however many workers. It
restarts a process that dies (with backoff), publishes each state change
(``frontend_state``) and stops every process group when it gets SIGTERM or
SIGINT, or when the process that spawned it is gone (even after SIGKILL)::

    supervisor = spawn("production")     # None when no service is a frontend
    ...
    stop(supervisor)                     # on the master's exit
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

from platform_core.registry import services
from platform_core.runtime.frontend_state import (
    MODE_VARIABLE,
    SUPERVISED,
    forget,
    publish,
)

# Seconds between checks that the spawning process still lives.
PARENT_POLL = 0.5
STOP_TIMEOUT = 15.0


def frontend_specs() -> list:
    """Return the frontend services of the platform."""
    return [spec for spec in services if spec.kind == "frontend"]


def spawn(mode: str) -> subprocess.Popen | None:
    """Start the supervisor in ``mode`` ("production" or "development").

    Return None when the platform has no frontend. Set ``JOULE_FRONTENDS``
    in this process's environment, so processes it starts afterwards
    (forked workers, runserver's child) proxy to the supervised ones.
    """
    if not frontend_specs():
        return None
    environment = {k: v for k, v in os.environ.items() if k != MODE_VARIABLE}
    process = subprocess.Popen(
        [sys.executable, "-m", "platform_core.runtime.supervisor", mode],
        env=environment,
        stdin=subprocess.DEVNULL,
    )
    os.environ[MODE_VARIABLE] = SUPERVISED
    return process


def stop(process: subprocess.Popen | None, timeout: float = STOP_TIMEOUT) -> None:
    """Stop the supervisor (it stops its Node processes first); wait for it."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def supervise(mode: str) -> None:
    """Run every frontend until SIGTERM/SIGINT or the parent's death."""
    from platform_core.runtime.frontends import frontends

    parent = os.getppid()
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    frontends.mode = mode
    frontends.watch(publish)
    specs = frontend_specs()
    for spec in specs:
        frontends.start(spec)
    while not stopping.wait(PARENT_POLL):
        if os.getppid() != parent:
            break
    frontends.stop_all()
    for spec in specs:
        forget(spec.id)


def main(argv: list[str]) -> None:
    """Entry point: ``python -m platform_core.runtime.supervisor [mode]``."""
    os.environ.pop(MODE_VARIABLE, None)  # this process is the one that runs them
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_core.settings")
    import django

    django.setup()
    supervise(argv[0] if argv else "production")


if __name__ == "__main__":
    main(sys.argv[1:])
