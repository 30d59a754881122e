"""Headless Chromium for end-to-end tests, driven over the DevTools protocol.

Chromium (Debian package ``chromium``) listens on a free port; one page
target is driven over a websocket (the ``websockets`` package)::

    with headless_chromium(tmp_path) as browser:
        browser.navigate(server.url + "/storefront")
        titles = browser.evaluate("[...document.links].map(a => a.text)")
        browser.screenshot(tmp_path / "page.png")
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--window-size=1024,768",
    "--remote-debugging-port=0",
)
START_TIMEOUT = 30.0


def chromium_path() -> str | None:
    """Return the Chromium executable, or None when it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One page of a running Chromium: navigate, evaluate, screenshot."""

    def __init__(self, websocket: ClientConnection) -> None:
        self.websocket = websocket
        self.events: list[dict] = []
        self._next_id = 0

    def call(self, method: str, timeout: float = 30.0, **params) -> dict:
        """Send a DevTools command; return its result, keeping events seen."""
        self._next_id += 1
        message_id = self._next_id
        self.websocket.send(
            json.dumps({"id": message_id, "method": method, "params": params})
        )
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(
                self.websocket.recv(timeout=deadline - time.monotonic())
            )
            if message.get("id") != message_id:
                self.events.append(message)
                continue
            if "error" in message:
                raise RuntimeError(f"{method} failed: {message['error']}")
            return message["result"]

    def wait_event(self, method: str, timeout: float = 30.0) -> dict:
        """Return the next event ``method`` (one already seen counts)."""
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(index)
            message = json.loads(
                self.websocket.recv(timeout=deadline - time.monotonic())
            )
            self.events.append(message)

    def navigate(self, url: str, timeout: float = 30.0) -> None:
        """Load ``url`` and wait for its load event."""
        self.events = [
            e for e in self.events if e.get("method") != "Page.loadEventFired"
        ]
        result = self.call("Page.navigate", url=url)
        if result.get("errorText"):
            raise RuntimeError(f"cannot load {url}: {result['errorText']}")
        self.wait_event("Page.loadEventFired", timeout)

    def evaluate(self, expression: str):
        """Return the value of a JavaScript expression in the page."""
        result = self.call(
            "Runtime.evaluate",
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15.0):
        """Evaluate ``expression`` until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{expression!r} still false after {timeout} s")
            time.sleep(0.1)

    def screenshot(self, path: Path) -> Path:
        """Save a PNG of the page at ``path``; return it."""
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def errors(self) -> list[str]:
        """Return the page's uncaught exceptions and console or network errors."""
        found = []
        for event in self.events:
            params = event.get("params", {})
            if event.get("method") == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("text", "exception"))
            elif event.get("method") == "Log.entryAdded":
                entry = params["entry"]
                if entry["level"] == "error":
                    found.append(f"{entry['text']} ({entry.get('url', '')})")
        return found


def _devtools_port(profile: Path, process: subprocess.Popen) -> int:
    """Wait for Chromium to write DevToolsActivePort; return the port."""
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(marker.read_text().splitlines()[0])
        time.sleep(0.1)
    raise RuntimeError(f"chromium wrote no {marker.name} in {START_TIMEOUT:.0f} s")


def _page_websocket(port: int) -> str:
    targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
    return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")


@contextlib.contextmanager
def headless_chromium(workdir: Path) -> Iterator[Browser]:
    """Start headless Chromium with a fresh profile in ``workdir``; yield a page.

    The browser's output goes to ``workdir/chromium.log``; its whole
    process group is stopped at the end.
    """
    profile = workdir / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    command = [chromium_path(), *FLAGS, f"--user-data-dir={profile}", "about:blank"]
    with (workdir / "chromium.log").open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        port = _devtools_port(profile, process)
        with connect(_page_websocket(port), max_size=None, open_timeout=10) as ws:
            browser = Browser(ws)
            for domain in ("Page", "Runtime", "Log"):
                browser.call(f"{domain}.enable")
            yield browser
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue
