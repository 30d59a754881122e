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
