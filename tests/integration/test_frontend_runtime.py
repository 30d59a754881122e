"""The frontend supervisor on small Node apps written by the tests.

Each test builds a fresh ``FrontendRegistry``; the apps need no packages.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

from platform_core.config.services import FrontendOptions
from platform_core.config.types import ServiceSpec
from platform_core.runtime import node
from platform_core.runtime.frontends import FrontendRegistry, frontend_app

SERVER_JS = """
const http = require("node:http");
const base = process.env.BASE_PATH;
http.createServer((req, res) => {
  res.writeHead(200, {"content-type": "application/json"});
  res.end(JSON.stringify({url: req.url, env: process.env.NODE_ENV,
                          built: require("node:fs").existsSync("built.txt")}));
}).listen(Number(process.env.PORT), process.env.HOST);
console.log("up under " + base);
"""

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs node")


def make_app(root: Path, **options) -> ServiceSpec:
    app = root / "proxied_frontends" / "mini"
    app.mkdir(parents=True)
    (app / "server.js").write_text(SERVER_JS)
    (app / "build.js").write_text("require('fs').writeFileSync('built.txt', '')")
    options = {"path": "proxied_frontends/mini", "command": "node server.js"} | options
    return ServiceSpec(
        "mini", "frontend", "/mini", root, "services.mini", FrontendOptions(**options)
    )


@pytest.fixture
def registry():
    registry = FrontendRegistry()
    yield registry
    registry.stop_all()


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_app_is_built_started_and_logged(tmp_path, registry, caplog):
    spec = make_app(tmp_path, build="node build.js")
    caplog.set_level(logging.INFO, logger="joule.frontend.mini")
    process = registry.register(spec, root=tmp_path)
    process.start()
    assert process.wait_ready(20), process.detail
    url = f"http://127.0.0.1:{process.port}/mini/x"
    assert httpx.get(url).json() == {
        "url": "/mini/x",
        "env": "production",
        "built": True,
    }
    wait_for(lambda: any("up under /mini" in r.message for r in caplog.records))
    record = next(r for r in caplog.records if "up under /mini" in r.message)
    assert (record.service, record.stream) == ("mini", "stdout")
    app = tmp_path / spec.options.path
    assert not node.needs_build(app, spec.options.build, spec.prefix)
    assert node.needs_build(app, spec.options.build, "/elsewhere")  # new basePath


def test_build_runs_again_when_a_source_changes(tmp_path):
    spec = make_app(tmp_path)
    app = tmp_path / spec.options.path
    assert node.needs_build(app, "node -e 1")
    (app / node.STAMP_FILE).write_text("node -e 1")
    assert not node.needs_build(app, "node -e 1")
    assert node.needs_build(app, "node -e 2")  # another command
    later = time.time() + 5
    os.utime(app / "server.js", (later, later))
    assert node.needs_build(app, "node -e 1")


def test_install_is_needed_when_the_lockfile_is_newer(tmp_path):
    spec = make_app(tmp_path)
    app = tmp_path / spec.options.path
    assert not node.needs_install(app)  # nothing to install
    (app / "package-lock.json").write_text("{}")
    assert node.needs_install(app)
    assert node.install_command(app).startswith("npm ci")
    (app / "node_modules").mkdir()
    (app / "node_modules" / ".package-lock.json").write_text("{}")
    assert not node.needs_install(app)


def test_crashing_app_is_restarted_and_answers_503(tmp_path, registry):
    spec = make_app(tmp_path, command="node -e process.exit(3)")
    process = registry.register(spec, root=tmp_path)
    process.start()
    wait_for(lambda: process.state == "restarting")
    assert process.status() == (False, "exited with code 3; restarting")
    wait_for(lambda: process.starts >= 2)  # tried again, with backoff
    transport = httpx.ASGITransport(app=frontend_app(spec, registry))

    async def get():
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get("/mini/")

    started = time.monotonic()
    response = asyncio.run(get())
    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert "exited with code 3" in response.json()["message"]
    assert time.monotonic() - started < 5


def test_missing_app_folder_is_reported(tmp_path, registry):
    spec = make_app(tmp_path, path="proxied_frontends/nowhere")
    process = registry.register(spec, root=tmp_path)
    process.start()
    wait_for(lambda: process.state == "restarting")
    assert "is not a folder: check [frontend] path" in process.detail


def test_stop_leaves_no_process(tmp_path, registry):
    process = registry.register(make_app(tmp_path), root=tmp_path)
    process.start()
    assert process.wait_ready(20), process.detail
    pid = process.process.pid
    registry.stop_all()
    assert process.state == "stopped"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
