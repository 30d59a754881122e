"""Prepare and launch a Node app: install its packages, build it, start it.

Install runs ``npm ci`` (``npm install`` without a lockfile) when
``node_modules`` is older than package.json or the lockfile; the build runs
when a source file is newer than the last successful build, or when the
build command or ``BASE_PATH`` changed (Next.js bakes it into the build).
Both hold a file lock, so processes starting the same app at once take
turns. The app learns where the platform is from ``JOULE_URL``::

    env = node_env(3100, "/shop", "production", app_dir)
    prepare(app_dir, "npm run build", env, logger)
    process = launch(app_dir, "npm run start", env, logger)
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from platform_core.config import get_config
from platform_core.config.env import env as read_env
from platform_core.exceptions import JouleError

LOCK_FILE = ".joule-build.lock"
STAMP_FILE = ".joule-build.stamp"
# Not sources: installed packages and the usual build outputs.
SKIPPED_DIRS = {"node_modules", ".next", "dist", "build", "out", ".output", ".git"}
# Platform secrets a Node process has no use for.
WITHHELD_ENV = ("JOULE_ADMIN_SECRET", "JOULE_JWT_SECRET", "JOULE_SECRET_KEY")
PR_SET_PDEATHSIG = 1


class FrontendError(JouleError):
    """A frontend could not be installed, built or started."""


def loopback_url(host: str, port: int) -> str:
    """Return ``http://host:port``, a wildcard host being the loopback one."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def platform_url() -> str:
    """Return the URL a frontend's server side uses to call the platform.

    ``JOULE_URL`` when set (the production config sets it to the address
    gunicorn listens on, runserver to its own), else ``[server]`` of
    joule.toml. A page fetches ``<JOULE_URL>/products/products``, say.
    """
    server = get_config().server
    default = loopback_url(server.host, server.port)
    return read_env("JOULE_URL", default=default).rstrip("/") or default


def node_env(port: int, base_path: str, mode: str, app_dir: Path) -> dict[str, str]:
    """Return the environment of a Node process: PORT, HOST, BASE_PATH, ..."""
    env = {k: v for k, v in os.environ.items() if k not in WITHHELD_ENV}
    bin_dir = str(app_dir / "node_modules" / ".bin")
    env.update(
        PORT=str(port),
        HOST="127.0.0.1",
        BASE_PATH=base_path,
        JOULE_URL=platform_url(),
        NODE_ENV=mode,
        NEXT_TELEMETRY_DISABLED="1",
        PATH=bin_dir + os.pathsep + env.get("PATH", ""),
    )
    return env


def needs_install(app_dir: Path) -> bool:
    """Return whether ``node_modules`` is missing or older than the manifests."""
    manifests = [app_dir / "package.json", app_dir / "package-lock.json"]
    manifests = [m for m in manifests if m.exists()]
    if not manifests:
        return False
    marker = app_dir / "node_modules" / ".package-lock.json"
    if not marker.exists():
        return True
    return max(m.stat().st_mtime for m in manifests) > marker.stat().st_mtime


def install_command(app_dir: Path) -> str:
    """Return ``npm ci`` with a lockfile, else ``npm install``."""
    verb = "ci" if (app_dir / "package-lock.json").exists() else "install"
    return f"npm {verb} --no-audit --no-fund"


def newest_source(app_dir: Path) -> float:
    """Return the newest modification time of the app's source files."""
    newest = 0.0
    for folder, dirs, files in os.walk(app_dir):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        for name in files:
            if not name.startswith(".joule-build"):
                newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime)
    return newest


def build_signature(build: str, base_path: str = "") -> str:
    """Return what the build stamp records: the command and the base path."""
    return f"{build}\nBASE_PATH={base_path}" if base_path else build


def needs_build(app_dir: Path, build: str, base_path: str = "") -> bool:
    """Return whether ``build`` must run: never run for ``base_path``, or stale."""
    stamp = app_dir / STAMP_FILE
    if not build:
        return False
    signature = build_signature(build, base_path)
    if not stamp.exists() or stamp.read_text() != signature:
        return True
    return newest_source(app_dir) > stamp.stat().st_mtime


@contextlib.contextmanager
def build_lock(app_dir: Path) -> Iterator[None]:
    """Hold the app's file lock for the block."""
    with open(app_dir / LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def prepare(app_dir: Path, build: str, env: dict, log: logging.Logger) -> None:
    """Install and build the app when needed; raise FrontendError on failure."""
    if not app_dir.is_dir():
        raise FrontendError(f"{app_dir} is not a folder: check [frontend] path")
    with build_lock(app_dir):
        if needs_install(app_dir):
            run(install_command(app_dir), app_dir, env, log)
        base_path = env.get("BASE_PATH", "")
        if needs_build(app_dir, build, base_path):
            run(build, app_dir, env, log)
            (app_dir / STAMP_FILE).write_text(build_signature(build, base_path))


def run(command: str, app_dir: Path, env: dict, log: logging.Logger) -> None:
    """Run ``command`` in the app folder, logging its output line by line."""
    log.info("running %s", command, extra={"stream": "build"})
    process = launch(app_dir, command, env, log, stream="build")
    if process.wait() != 0:
        raise FrontendError(f"{command!r} failed with exit code {process.returncode}")


def launch(
    app_dir: Path, command: str, env: dict, log: logging.Logger, stream: str = ""
) -> subprocess.Popen:
    """Start ``command`` in its own process group, its output sent to ``log``.

    The process is told to stop (SIGTERM) if the thread that started it
    dies, so a killed platform leaves no Node process behind.
    """
    try:
        process = subprocess.Popen(
            shlex.split(command),
            cwd=app_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    except OSError as exc:
        raise FrontendError(f"cannot run {command!r}: {exc}") from None
    for pipe, name, level in (
        (process.stdout, stream or "stdout", logging.INFO),
        (process.stderr, stream or "stderr", logging.WARNING),
    ):
        threading.Thread(
            target=pump_lines,
            args=(pipe, log, level, name),
            name=f"{log.name}-{name}",
            daemon=True,
        ).start()
    return process


def _die_with_parent() -> None:
    import ctypes

    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def pump_lines(pipe, log: logging.Logger, level: int, stream: str) -> None:
    """Log each line of ``pipe`` as one record, until it closes."""
    with pipe:
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip()
            if line:
                log.log(level, "%s", line, extra={"stream": stream})


def stop_group(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Stop the process group of ``process``: SIGTERM, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue
