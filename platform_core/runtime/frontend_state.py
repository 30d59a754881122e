"""The state of each frontend's Node process, shared by every process on a host.

One process supervises the Node processes (``runtime.supervisor``, owned by
the gunicorn master or by runserver); it writes each frontend's state to a
small JSON file whenever it changes. Workers, a second ``manage.py
services`` and ``/_joule/ready`` read it, so every process reports the
real state and proxies to the real port::

    publish(process)                 # the supervisor, on each change
    state = read("storefront")       # anyone: None when nobody supervises it
    state.upstream                   # Upstream on its port while running

The folder is ``JOULE_RUN_DIR``, else ``var/run`` of the project.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from platform_core.config import get_config
from platform_core.config.env import env
from platform_core.gateway.proxy.forwarding import Upstream

# Environment variable set by the supervising process for the processes it
# starts (workers, runserver's child): "supervised" means read, never run.
MODE_VARIABLE = "JOULE_FRONTENDS"
SUPERVISED = "supervised"


def run_dir() -> Path:
    """Return the folder of the state files (created on first use)."""
    default = get_config().root / "var" / "run"
    folder = Path(env("JOULE_RUN_DIR", default=str(default))) / "frontends"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def supervised_elsewhere() -> bool:
    """Return whether another process of this host supervises the frontends."""
    return os.environ.get(MODE_VARIABLE) == SUPERVISED


@dataclass(frozen=True)
class FrontendState:
    """What the supervisor last wrote about one frontend."""

    service: str
    prefix: str
    state: str
    detail: str
    port: int | None
    mode: str
    supervisor: int
    ever_ready: bool = False

    @property
    def running(self) -> bool:
        """Return whether the process runs and its supervisor is alive."""
        return self.state == "running" and self.port is not None

    @property
    def upstream(self) -> Upstream | None:
        """Return where the running process listens, or None."""
        if not self.running:
            return None
        return Upstream("http", "127.0.0.1", self.port, self.prefix)


def publish(process) -> None:
    """Write ``process``'s (a FrontendProcess) state, atomically."""
    state = {
        "service": process.spec.id,
        "prefix": process.spec.prefix,
        "state": process.state,
        "detail": process.detail,
        "port": process.port,
        "mode": process.mode,
        "supervisor": os.getpid(),
        "ever_ready": process.ever_ready,
    }
    path = run_dir() / f"{process.spec.id}.json"
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(state))
    temporary.replace(path)


def forget(service_id: str) -> None:
    """Remove the state file of ``service_id`` (its supervisor stopped)."""
    with contextlib.suppress(FileNotFoundError):
        (run_dir() / f"{service_id}.json").unlink()


def read(service_id: str) -> FrontendState | None:
    """Return the state of ``service_id``, or None when no live process
    supervises it (no file, or its supervisor is gone)."""
    try:
        data = json.loads((run_dir() / f"{service_id}.json").read_text())
        state = FrontendState(**data)
    except (FileNotFoundError, ValueError, TypeError):
        return None
    return state if _alive(state.supervisor) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
