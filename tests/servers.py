"""Real server processes for tests: start one on a free port, stop its group.

with running_server("gunicorn", ["-m", "gunicorn", ...], tmp_path) as server:
    server.get("/_joule/health")
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
# A fresh clone installs and builds its frontends (npm ci, next build) before
# the server answers: lifespan start-up waits for them.
STARTUP_TIMEOUT = 120.0
STOP_TIMEOUT = 10.0


@dataclass
class Server:
    """A running server: its name, base URL and the files holding its output."""

    name: str
    url: str
    stdout: Path
    stderr: Path

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10, **kwargs)

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        return httpx.request(method, self.url + path, timeout=10, **kwargs)

    def log_records(self) -> list[dict]:
        """Return the JSON log lines the server wrote to stderr."""
        lines = self.stderr.read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _output(stdout: Path, stderr: Path) -> str:
    return (
        f"--- stdout ---\n{stdout.read_text(errors='replace')}"
        f"--- stderr ---\n{stderr.read_text(errors='replace')}"
    )


def _stop(process: subprocess.Popen) -> None:
    """Stop the server's whole process group, by the server's own PID."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=STOP_TIMEOUT)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def running_server(
    name: str, args: list[str], workdir: Path, env: dict | None = None
) -> Iterator[Server]:
    """Start ``python <args>`` ("{port}" filled in), yield it once healthy.

    ``env`` adds to (or overrides) the server's environment.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stdout, stderr = workdir / "stdout.log", workdir / "stderr.log"
    environment = {
        **os.environ,
        "JOULE_ROOT": str(ROOT),
        # The pages tested need no tables; keep the project's database untouched.
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        **(env or {}),
    }
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, *(arg.format(port=port) for arg in args)],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"{name} exited with {process.returncode} before answering\n"
                    + _output(stdout, stderr)
                )
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/_joule/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{name} did not answer /_joule/health within "
                    f"{STARTUP_TIMEOUT:.0f} s\n" + _output(stdout, stderr)
                )
            time.sleep(0.2)
        yield Server(name, url, stdout, stderr)
    finally:
        _stop(process)


class JsonServer:
    """A local HTTP server in a thread: ``answer(method, headers)`` gives
    (status, JSON value) for every GET and POST. Its base URL is ``url``."""

    def __init__(self, answer) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def reply(self) -> None:
                status, value = answer(self.command, self.headers)
                body = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = reply

            def log_message(self, *args) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_port}"

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def production_project(folder: Path) -> Path:
    """Return a project of two db services, a Django app and an Express
    frontend, with its own manage.py, for ``manage.py start`` tests."""
    from platform_core.testing import project_of

    names = ["products", "orders", "hello", "legacy-express"]
    root = project_of(folder, ROOT / "services", names)
    (root / "manage.py").symlink_to(ROOT / "manage.py")
    return root


def environment(project: Path, url: str, **extra: str) -> dict:
    """Return the environment of a server of ``project`` on database ``url``."""
    return {
        **os.environ,
        "JOULE_ROOT": str(project),
        "DATABASE_URL": url,
        "JOULE_RUN_DIR": str(project / "var" / "run"),
        **extra,
    }


def wait_for(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until ``url`` answers /_joule/ready with 200 while ``process`` runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited with {process.returncode}"
        try:
            if httpx.get(url + "/_joule/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"not ready within {timeout:.0f} s")


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def node_processes(folder: Path, ancestor: int) -> list[int]:
    """Return the process groups running in ``folder`` below process
    ``ancestor``: one per Node app started (``node --watch`` is two
    processes of one group)."""
    parents = _parents()

    def below(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == ancestor:
                return True
        return False

    found = set()
    for pid in parents:
        try:
            if Path(os.readlink(f"/proc/{pid}/cwd")) == folder and below(pid):
                found.add(os.getpgid(pid))
        except OSError:
            continue
    return sorted(found)


def groups_alive(groups: list[int]) -> list[int]:
    """Return those of process groups ``groups`` that still have a process."""
    alive = []
    for group in groups:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            continue
        alive.append(group)
    return alive


def spawn_manage(
    project: Path, env: dict, *args: str, log: Path, stdout: Path | None = None
) -> subprocess.Popen:
    """Start ``manage.py <args>`` of ``project`` in its own session; stderr
    goes to ``log`` (a file: a pipe nobody reads would fill and stall it)."""
    with log.open("wb") as err:
        out = stdout.open("wb") if stdout is not None else subprocess.DEVNULL
        try:
            return subprocess.Popen(
                [sys.executable, str(project / "manage.py"), *args],
                cwd=project,
                env=env,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        finally:
            if stdout is not None:
                out.close()
